import { subtaskAfterLostJob } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import type { AgentJobContext } from '../agent-job.js';
import type { AgentJob } from '../dispatcher.js';
import type { PipelineDeps } from '../pipeline-deps.js';
import { agentJobContext, runAgentJob } from '../run-agent-job.js';
import { requireRun } from '../run-records.js';
import { fetchRunBase } from '../github/this-clone.js';

const OVER = new Set(['succeeded', 'failed', 'cancelled']);

/** What a worker keeps per run between its jobs: the context, read once from the repository. */
export class RunContexts {
  private readonly contexts = new Map<string, Promise<AgentJobContext>>();

  get(deps: PipelineDeps, run: RunRecord): Promise<AgentJobContext> {
    let context = this.contexts.get(run.id);
    if (!context) {
      context = agentJobContext(deps, run);
      context.catch(() => this.contexts.delete(run.id));
      this.contexts.set(run.id, context);
    }
    return context;
  }
}

/**
 * Runs an agent or fix job taken from the queue: the run and its context rebuilt from the store.
 * An agent job whose subtask already ended does nothing (the same job added again); one whose
 * subtask is `running` was lost with its worker (killed mid-way) and starts over, the lost
 * attempt counted as an earlier one.
 */
export async function handleAgentJob(deps: PipelineDeps, job: AgentJob, contexts: RunContexts): Promise<void> {
  const run = await requireRun(deps, job.runId);
  if (job.kind === 'agent') {
    const record = await deps.store.getSubtask(run.id, job.subtaskId);
    if (!record || OVER.has(record.state)) return;
    if (record.state === 'running') await deps.store.putSubtask(subtaskAfterLostJob(record, new Date().toISOString()));
  }
  // Another machine may have made the commit this job starts from (a base holding dependencies' work).
  await fetchRunBase(deps, run, job.baseCommit);
  await runAgentJob(deps, job, await contexts.get(deps, run));
}
