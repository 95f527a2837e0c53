import { hostname } from 'node:os';
import { FanoutError } from '../../domain/errors.js';
import { FINISHED_RUN_STATES } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { JobQueue } from '../../ports/job-queue.js';
import type { Lease, Locks } from '../../ports/locks.js';
import { runPassJobId } from '../run-starter.js';

export interface RunPassDeps {
  store: CoordStore;
  locks: Locks;
  jobs: JobQueue;
  /** How long a lock's lease lasts unrenewed (a dead holder's is free after this). */
  leaseMs: number;
  /** One pass over the run (executeRun; for a GitHub run, with its status comment); stops when `signal` aborts. */
  pass(run: RunRecord, signal: AbortSignal): Promise<void>;
}

/** The lock a pass over the run holds: one pass of a run at a time, across every machine. */
export function runLock(runId: string): string {
  return `run:${runId}`;
}

/**
 * A queued pass over a run, on whichever worker took it. One pass of a run at a time across every
 * machine (the run's lock); a request that finds it held raises a flag, and the holder goes round
 * again, so no request is lost. A holder that died is replaced: the request waits for its lease to
 * run out (and no longer, so that requests for a busy run do not hold every worker's run slots).
 * A pass stops when a person cancels the run (a cancelled run is not passed over again: resume
 * and retry move it on first), or when its lease is lost (a new pass is queued, which waits for
 * whoever holds the run now); one that fails records why on the run, which stays where it was
 * for the next pass (`resume`, an event, the App's next start).
 */
export async function handleRunPass(deps: RunPassDeps, runId: string): Promise<void> {
  const again = `run-again:${runId}`;
  let lease = await deps.locks.tryAcquire(runLock(runId));
  if (!lease) {
    await deps.locks.raiseFlag(again);
    lease = await deps.locks
      .acquire(runLock(runId), AbortSignal.timeout(Math.ceil(deps.leaseMs * 1.5)))
      .catch(() => null);
    // Still held (its holder lives and will see the flag), or the holder went round for us.
    if (!lease) return;
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
      if (!run || run.state === 'cancelled') return;
      await passUntilStopped(deps, run, lease);
    } while (!lease.lost.aborted && (await deps.locks.lowerFlag(again)));
  } finally {
    await lease.release();
  }
  // Asked between the last look and the release (that request found the lock still held), or the
  // lease was lost (a stall, Redis out of reach): a new pass goes on with the run.
  if (lease.lost.aborted || (await deps.locks.lowerFlag(again)))
    await deps.jobs.add(runPassJobId(runId), { kind: 'run-pass', runId });
}

async function passUntilStopped(deps: RunPassDeps, run: RunRecord, lease: Lease): Promise<void> {
  const stop = new AbortController();
  const lost = () => stop.abort(lease.lost.reason);
  lease.lost.addEventListener('abort', lost, { once: true });
  const unsubscribe = deps.store.watch(run.id, (change) => {
    if (change.kind !== 'run') return;
    void deps.store
      .getRun(run.id)
      .then((current) => {
        if (current?.state === 'cancelled') stop.abort();
      })
      // Redis out of reach: the pass's own reads fail and say so; this look is only a shortcut.
      .catch(() => undefined);
  });
  try {
    await deps.pass(run, stop.signal);
  } catch (error) {
    // Lost the lease: whoever holds the run now goes on with it.
    if (lease.lost.aborted || (error instanceof FanoutError && error.code === 'lease-lost')) return;
    await recordFailedPass(deps.store, run.id, error);
  } finally {
    lease.lost.removeEventListener('abort', lost);
    unsubscribe();
  }
}

/**
 * A pass that failed says why on the run, rather than leave it stuck with nothing said. The run
 * keeps its state: moving it to `cancelled` would stop its agents on every machine, as a person's
 * cancel does, and the next pass (a resume, an event, the App's next start) takes it up as it is.
 */
async function recordFailedPass(store: CoordStore, runId: string, error: unknown): Promise<void> {
  const run = await store.getRun(runId);
  if (!run || FINISHED_RUN_STATES.has(run.state)) return;
  const reason = error instanceof Error ? error.message : String(error);
  await store.updateRun(runId, {
    error: `a pass over the run failed on ${hostname()}: ${reason}. The next pass goes on with it (\`fanout resume ${runId}\`).`,
  });
}
