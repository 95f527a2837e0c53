import { hostname } from 'node:os';
import { FanoutError } from '../../domain/errors.js';
import { FINISHED_RUN_STATES } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { Lease, Locks } from '../../ports/locks.js';
import { abortWhenCancelled } from '../run-cancel.js';

export interface RunPassDeps {
  store: CoordStore;
  locks: Locks;
  /** How long a lock's lease lasts unrenewed (a dead holder's is free after this). */
  leaseMs: number;
  /** One pass over the run (executeRun; for a GitHub run, with its status comment); stops when `signal` aborts. */
  pass(run: RunRecord, signal: AbortSignal): Promise<void>;
}

/** The lock a pass over the run holds: one pass of a run at a time, across every machine. */
export function runLock(runId: string): string {
  return `run:${runId}`;
}

/** A lease lost this many times in a row (stalls longer than a lease) stops the job, saying why. */
const MAX_LOST_LEASES = 3;

/** How a failed pass's reason starts on the run: the next pass that gets going clears it. */
const PASS_FAILED = 'a pass over the run failed';

/**
 * A queued pass over a run, on whichever worker took it. One pass of a run at a time across every
 * machine (the run's lock); a request that finds it held raises a flag, and the holder goes round
 * again, so no request is lost. A holder that died is replaced: the request waits for its lease to
 * run out (and no longer, so that requests for a busy run do not hold every worker's run slots).
 * A pass stops when a person cancels the run (a cancelled run is not passed over again: resume
 * and retry move it on first). A request raised as it lets go, or a lease it lost (a stall, Redis
 * out of reach), is taken up by this same job, so whoever follows it (`fanout run`) sees the run
 * to its end. A pass that fails records why on the run, which stays where it was for the next
 * pass (`resume`, an event, the App's next start).
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
  for (let lostInARow = 0; ;) {
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
    lostInARow = lease.lost.aborted ? lostInARow + 1 : 0;
    if (lostInARow >= MAX_LOST_LEASES) {
      await recordFailedPass(
        deps.store,
        runId,
        new Error(
          `it lost its hold on the run ${MAX_LOST_LEASES} times in a row (a worker stalled longer than FANOUT_LOCK_TTL_MS, or Redis was out of reach)`,
        ),
      );
      return;
    }
    // Asked between the last look and the release, or the lease lost: gone on with here, unless
    // someone else holds the run now (it goes on with it, and sees the flag).
    if (!lease.lost.aborted && !(await deps.locks.lowerFlag(again))) return;
    const next = await deps.locks
      .acquire(runLock(runId), AbortSignal.timeout(Math.ceil(deps.leaseMs * 1.5)))
      .catch(() => null);
    if (!next) {
      // Held by a pass that lives: it goes round for this request at its end.
      await deps.locks.raiseFlag(again);
      return;
    }
    lease = next;
  }
}

async function passUntilStopped(deps: RunPassDeps, run: RunRecord, lease: Lease): Promise<void> {
  const stop = new AbortController();
  const lost = () => stop.abort(lease.lost.reason);
  lease.lost.addEventListener('abort', lost, { once: true });
  const cancel = abortWhenCancelled(deps.store, run.id, stop);
  try {
    // What stopped an earlier pass no longer stands once this one gets going.
    if (run.error?.startsWith(PASS_FAILED)) await deps.store.updateRun(run.id, { error: undefined });
    await deps.pass(run, stop.signal);
  } catch (error) {
    // Lost the lease: whoever holds the run now goes on with it.
    if (lease.lost.aborted || (error instanceof FanoutError && error.code === 'lease-lost')) return;
    await recordFailedPass(deps.store, run.id, error);
  } finally {
    lease.lost.removeEventListener('abort', lost);
    cancel.unwatch();
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
    error: `${PASS_FAILED} on ${hostname()}: ${reason}. The next pass goes on with it (\`fanout resume ${runId}\`).`,
  });
}
