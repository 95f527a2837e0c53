import { cancelledBeforeStart } from '../domain/run-transitions.js';
import type { CoordStore } from '../ports/coord-store.js';
import type { AgentJob } from './dispatcher.js';
import { TERMINAL } from './wait-for-subtasks.js';

/**
 * Aborts `stop` once the run is cancelled, on whichever machine: watched through the store's change
 * notifications from now on. `look()` checks once more (a cancel before the watch began);
 * `unwatch()` ends the watch. A failed read is ignored: it is only a shortcut, and the work's own
 * reads fail and say so.
 */
export function abortWhenCancelled(
  store: CoordStore,
  runId: string,
  stop: AbortController,
): { look(): Promise<void>; unwatch(): void } {
  const look = () =>
    store
      .getRun(runId)
      .then((current) => {
        if (current?.state === 'cancelled') stop.abort();
      })
      .catch(() => undefined);
  const unwatch = store.watch(runId, (change) => {
    if (change.kind === 'run') void look();
  });
  return { look, unwatch };
}

/** An agent job's subtask that had not ended, recorded as cancelled before it started (a fix job leaves nothing). */
export async function cancelUnstarted(store: CoordStore, job: AgentJob): Promise<void> {
  if (job.kind !== 'agent') return;
  const record = await store.getSubtask(job.runId, job.subtaskId);
  if (record && !TERMINAL.has(record.state))
    await store.updateSubtask(job.runId, job.subtaskId, cancelledBeforeStart(new Date().toISOString()));
}
