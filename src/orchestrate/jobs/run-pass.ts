import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { JobQueue } from '../../ports/job-queue.js';
import type { Locks } from '../../ports/locks.js';
import { runPassJobId } from '../run-starter.js';

export interface RunPassDeps {
  store: CoordStore;
  locks: Locks;
  jobs: JobQueue;
  /** One pass over the run (executeRun; for a GitHub run, with its status comment); stops when `signal` aborts. */
  pass(run: RunRecord, signal: AbortSignal): Promise<void>;
}

/**
 * A queued pass over a run, on whichever worker took it. One pass of a run at a time across every
 * machine (the run's lock); a request that finds it held raises a flag, and the holder goes round
 * again, so no request is lost; a holder that died (its lease ran out) is replaced by the request.
 * A pass stops when the store says a person cancelled the run.
 */
export async function handleRunPass(deps: RunPassDeps, runId: string): Promise<void> {
  const again = `run-again:${runId}`;
  let lease = await deps.locks.tryAcquire(`run:${runId}`);
  if (!lease) {
    // Held: the holder goes round again when it sees the flag. If it ends (or dies, its lease
    // running out) without lowering it, this request runs the pass itself.
    await deps.locks.raiseFlag(again);
    lease = await deps.locks.acquire(`run:${runId}`);
    if (!(await deps.locks.lowerFlag(again))) {
      await lease.release();
      return;
    }
  }
  try {
    // What was asked before this pass starts is covered by it.
    await deps.locks.lowerFlag(again);
    do {
      const run = await deps.store.getRun(runId);
      if (!run) return;
      await passUntilCancelled(deps, run);
    } while (await deps.locks.lowerFlag(again));
  } finally {
    await lease.release();
  }
  // Asked between the last look and the release: that request found the lock still held.
  if (await deps.locks.lowerFlag(again)) await deps.jobs.add(runPassJobId(runId), { kind: 'run-pass', runId });
}

async function passUntilCancelled(deps: RunPassDeps, run: RunRecord): Promise<void> {
  const stop = new AbortController();
  const unsubscribe = deps.store.watch(run.id, (change) => {
    if (change.kind !== 'run') return;
    void deps.store.getRun(run.id).then((current) => {
      if (current?.state === 'cancelled') stop.abort();
    });
  });
  try {
    await deps.pass(run, stop.signal);
  } finally {
    unsubscribe();
  }
}
