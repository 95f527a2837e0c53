import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { FanoutJob, JobQueue, JobWorker } from '../../ports/job-queue.js';
import type { Locks } from '../../ports/locks.js';
import { executeRun } from '../execute-run.js';
import { delayUntil, lookAgainAt } from '../look-again.js';
import { handlePullRequestEvent } from '../github/handle-event.js';
import { processCommand } from '../github/process-command.js';
import type { RepositoryPipelines } from '../github/repository-pipelines.js';
import { githubRunPass } from '../github/run-executor.js';
import type { PipelineDeps } from '../pipeline-deps.js';
import { requireRun } from '../run-records.js';
import { QueuedRunStarter } from '../run-starter.js';
import { handleAgentJob, RunContexts } from './handle-agent-job.js';
import { handleRunPass } from './run-pass.js';

export interface WorkerDeps {
  store: CoordStore;
  jobs: JobQueue;
  locks: Locks;
  /** How long the locks' leases last unrenewed (FANOUT_LOCK_TTL_MS). */
  leaseMs: number;
  /** The pipeline for a run's repository (the composition root keeps one per repository), stopping on `signal`. */
  pipelineFor(run: RunRecord, signal?: AbortSignal): Promise<PipelineDeps>;
  /** The App's side, when this worker has its credentials: GitHub runs, commands, pull request events. */
  github?: { pipelines: RepositoryPipelines; statusDebounceMs: number };
  log(message: string, error?: unknown): void;
}

/** How many jobs of each queue a worker runs at once. */
export interface WorkerConcurrency {
  agents: number;
  runs: number;
  intake: number;
}

/**
 * Takes jobs from the queues and runs them in this process: agent and fix jobs, passes over runs,
 * and (with the App's credentials) webhook commands and pull request events. Everything a job
 * needs beyond its data comes from the store and this process's environment.
 */
export function startWorker(deps: WorkerDeps, concurrency: WorkerConcurrency): JobWorker {
  const contexts = new RunContexts();
  const starter = new QueuedRunStarter(deps.jobs);
  const handle = async (job: FanoutJob): Promise<void> => {
    switch (job.kind) {
      case 'agent':
      case 'fix': {
        const run = await requireRun(deps, job.runId);
        await handleAgentJob(await deps.pipelineFor(run), job, contexts);
        return;
      }
      case 'run-pass':
        await handleRunPass(
          { ...deps, leaseMs: deps.leaseMs, pass: (run, signal) => pass(deps, run, signal) },
          job.runId,
        );
        return;
      case 'command':
      case 'event': {
        const github = deps.github;
        if (!github) throw new Error('this worker has no GitHub App credentials (APP_ID, PRIVATE_KEY) for the intake');
        const context = { store: deps.store, pipelines: github.pipelines, executor: starter };
        const repository = job.kind === 'command' ? (await deps.store.getCommand(job.commandId))?.target : job.target;
        if (!repository) return;
        // A repository's commands and events one at a time, across every worker.
        const lease = await deps.locks.acquire(`intake:${repository.owner}/${repository.repo}`.toLowerCase());
        try {
          if (job.kind === 'command') await processCommand(context, job.commandId);
          else await handlePullRequestEvent(context, job.target, job.event);
        } finally {
          await lease.release();
        }
        return;
      }
    }
  };
  return deps.jobs.work(
    { agents: concurrency.agents, runs: concurrency.runs, ...(deps.github ? { intake: concurrency.intake } : {}) },
    async (job) => {
      const started = Date.now();
      deps.log(`${describeJob(job)}: started`);
      try {
        await handle(job);
        deps.log(`${describeJob(job)}: done in ${Date.now() - started} ms`);
      } catch (error) {
        deps.log(`${describeJob(job)}: failed after ${Date.now() - started} ms`, error);
        throw error;
      }
    },
  );
}

async function pass(deps: WorkerDeps, run: RunRecord, signal: AbortSignal): Promise<void> {
  if (run.origin.kind === 'github') {
    if (!deps.github) throw new Error(`run ${run.id} is a GitHub run and this worker has no GitHub App credentials`);
    await githubRunPass({ store: deps.store, log: deps.log, ...deps.github }, run.id, signal);
  } else {
    await executeRun(await deps.pipelineFor(run, signal), run.id);
  }
  // A wait that no event will end (the grace period for CI to appear): a pass queued for its end,
  // kept in Redis (one job per run and moment, however many passes ask for it).
  const at = await lookAgainAt(deps.store, run.id);
  if (at !== undefined)
    await deps.jobs.add(`run-${run.id}-at-${at}`, { kind: 'run-pass', runId: run.id }, { delayMs: delayUntil(at) });
}

/** A job as the worker's log names it. */
function describeJob(job: FanoutJob): string {
  switch (job.kind) {
    case 'agent':
    case 'fix':
      return `${job.kind} job ${job.runId}/${job.subtaskId}`;
    case 'run-pass':
      return `pass over run ${job.runId}`;
    case 'command':
      return `command ${job.commandId}`;
    case 'event':
      return `${job.event.kind} event on ${job.target.owner}/${job.target.repo}`;
  }
}
