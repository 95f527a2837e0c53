import { limitsFromConfig } from '../agent/limits.js';
import type { Subtask } from '../domain/plan.js';
import type { RunRecord } from '../domain/run.js';
import { readWorkspacePackages } from '../domain/workspace-packages.js';
import { FALLBACK_ID } from '../report/run-report.js';
import { executeAgentJob, type AgentJobContext } from './agent-job.js';
import type { AgentJob } from './dispatcher.js';
import { executeFixJob } from './fix-job.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { requireRun } from './run-records.js';

/**
 * What every agent job of a run shares, read from the run's repository at its base: one listing
 * for every outline, the workspace packages, and the shared git state as it is now (put back
 * after every attempt).
 */
export async function agentJobContext(deps: PipelineDeps, run: RunRecord): Promise<AgentJobContext> {
  const files = await deps.workspace.listFiles(run.repo, run.baseCommit);
  const packages = await readWorkspacePackages(files, (path) =>
    deps.workspace.readFileAt(run.repo, run.baseCommit, path),
  );
  return {
    config: run.config,
    limits: { ...limitsFromConfig(run.config), ...deps.limits },
    files,
    packages,
    sharedState: await deps.workspace.guardSharedState(run.repo),
  };
}

/** The single agent that takes the whole task when every planned agent failed. */
export function fallbackSubtask(task: string): Subtask {
  return {
    id: FALLBACK_ID,
    title: 'Whole task, single agent (fallback)',
    instructions: task,
    writeScope: ['**'],
    readScope: [],
    dependsOn: [],
  };
}

/** The subtask a job names: one of the plan's, or the fallback. */
export function subtaskOf(run: RunRecord, subtaskId: string): Subtask {
  if (subtaskId === FALLBACK_ID) return fallbackSubtask(run.task);
  const subtask = run.plan?.subtasks.find((candidate) => candidate.id === subtaskId);
  if (!subtask) throw new Error(`run ${run.id} has no subtask "${subtaskId}"`);
  return subtask;
}

/** Runs one agent or fix job against the run as the store has it now. */
export async function runAgentJob(deps: PipelineDeps, job: AgentJob, context: AgentJobContext): Promise<void> {
  const run = await requireRun(deps, job.runId);
  const subtask = subtaskOf(run, job.subtaskId);
  if (job.kind === 'fix') return executeFixJob(deps, run, subtask, context, job.generation);
  return executeAgentJob(deps, run, subtask, context, job.baseCommit);
}
