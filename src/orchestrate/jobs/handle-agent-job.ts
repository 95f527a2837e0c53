import { subtaskAfterLostJob } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import type { AgentJobContext } from '../agent-job.js';
import type { AgentJob } from '../dispatcher.js';
import { fetchRunBase } from '../github/this-clone.js';
import type { PipelineDeps } from '../pipeline-deps.js';
import { agentJobContext, runAgentJob } from '../run-agent-job.js';
import { abortWhenCancelled, cancelUnstarted } from '../run-cancel.js';
import { requireRun } from '../run-records.js';
import { TERMINAL } from '../wait-for-subtasks.js';

// Runs kept in memory by a worker: more than this and the oldest contexts are read again when needed.
const MAX_CONTEXTS = 64;

/** What a worker keeps per run between its jobs: the context, read once from the repository. */
export class RunContexts {
  private readonly contexts = new Map<string, Promise<AgentJobContext>>();

  get(deps: PipelineDeps, run: RunRecord): Promise<AgentJobContext> {
    let context = this.contexts.get(run.id);
    if (!context) {
      if (this.contexts.size >= MAX_CONTEXTS) this.contexts.delete(this.contexts.keys().next().value!);
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
 * attempt counted as an earlier one; a fix job's own attempt left running is tried again (see
 * executeFixJob). A job of a cancelled run does not start, and stops when the run is cancelled
 * under it.
 */
export async function handleAgentJob(deps: PipelineDeps, job: AgentJob, contexts: RunContexts): Promise<void> {
  const run = await requireRun(deps, job.runId);
  const record = await deps.store.getSubtask(run.id, job.subtaskId);
  if (!record) return;
  if (run.state === 'cancelled') return cancelUnstarted(deps.store, job);
  if (job.kind === 'agent') {
    if (TERMINAL.has(record.state)) return;
    if (record.state === 'running') await deps.store.putSubtask(subtaskAfterLostJob(record, new Date().toISOString()));
  }
  const stop = new AbortController();
  // Watched from here on, then looked at once more: a cancel while the job starts is not missed.
  const cancel = abortWhenCancelled(deps.store, run.id, stop);
  try {
    // Another machine may have made the commit an agent starts from (a base holding dependencies'
    // work). A fix starts from its pull request's head, which the fix job fetches itself.
    if (job.kind === 'agent') await fetchRunBase(deps, run, job.baseCommit);
    const context = await contexts.get(deps, run);
    await cancel.look();
    if (stop.signal.aborted) return await cancelUnstarted(deps.store, job);
    await runAgentJob({ ...deps, signal: stop.signal }, job, context);
  } finally {
    cancel.unwatch();
  }
}
