import type { SubtaskRecord } from '../domain/run.js';
import type { CoordStore } from '../ports/coord-store.js';

/** Subtask states nothing more comes after (unless someone retries). */
export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Resolves when every listed subtask is in a final state, woken by the store's change
 * notifications rather than by polling. `settled` (the jobs' own promises) ends the wait too, so
 * a job that died without writing its state is seen at once, not at a timeout.
 */
export async function waitForSubtasks(
  store: CoordStore,
  runId: string,
  subtaskIds: readonly string[],
  settled: Promise<unknown>,
): Promise<SubtaskRecord[]> {
  const wanted = new Set(subtaskIds);
  const read = async () => (await store.listSubtasks(runId)).filter((record) => wanted.has(record.subtaskId));
  const done = (records: SubtaskRecord[]) =>
    records.length === wanted.size && records.every((record) => TERMINAL.has(record.state));
  let wake: () => void = () => undefined;
  const unsubscribe = store.watch(runId, (change) => {
    if (change.kind === 'subtask' && wanted.has(change.subtaskId)) wake();
  });
  try {
    let jobsEnded = false;
    void settled.finally(() => {
      jobsEnded = true;
      wake();
    });
    for (;;) {
      const changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const records = await read();
      if (done(records) || jobsEnded) return records;
      await changed;
    }
  } finally {
    unsubscribe();
  }
}
