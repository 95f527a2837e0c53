import type { CoordStore } from '../ports/coord-store.js';

/** Past the moment a wait ends, so that the look finds it over (clocks and timers are not exact). */
export const LOOK_AGAIN_MARGIN_MS = 1_000;

/**
 * When a merging run's queue must look again by itself (ms since the epoch): the earliest end of
 * a wait that ends with no event to announce it (a grace period for the repository's CI). None
 * when nothing waits that way; the next event moves everything else.
 */
export async function lookAgainAt(store: CoordStore, runId: string): Promise<number | undefined> {
  const run = await store.getRun(runId);
  if (!run || run.state !== 'merging') return undefined;
  const ends = (await store.listSubtasks(runId))
    .flatMap((record) => (record.merge?.state === 'waiting' && record.merge.retryAt ? [record.merge.retryAt] : []))
    .map((at) => Date.parse(at))
    .filter((at) => Number.isFinite(at));
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

/** How long from now until `at`, plus the margin. */
export function delayUntil(at: number, now = Date.now()): number {
  return Math.max(0, at - now) + LOOK_AGAIN_MARGIN_MS;
}
