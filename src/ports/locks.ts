/**
 * A lock held until released, or until its holder stops renewing it (a killed process): the lease
 * runs out and someone else may take it. `token` fences: every new holder of a lock gets a higher
 * one, so work done under an old lease can be told from work under the current one.
 */
export interface Lease {
  readonly token: number;
  /** Aborted when the lease was lost (it could not be renewed in time): stop acting under it. */
  readonly lost: AbortSignal;
  /** Throws a LeaseLostError (domain/errors) when this lease is no longer the lock's current one. */
  check(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Exclusion and limits shared by every process of a deployment (Redis), or within one process
 * (the test double). Names are free-form; the adapter namespaces them.
 */
export interface Locks {
  /** The lock if it is free now, else null. */
  tryAcquire(name: string): Promise<Lease | null>;
  /** Waits for the lock (woken when it is released, or when its holder's lease runs out). */
  acquire(name: string, signal?: AbortSignal): Promise<Lease>;
  /** One of `limit` slots of a counting semaphore, waiting for one to free up. */
  acquireSlot(name: string, limit: number, signal?: AbortSignal): Promise<Lease>;
  /** Raises a flag (raising it again changes nothing). */
  raiseFlag(name: string): Promise<void>;
  /** Lowers the flag; true when it was raised. */
  lowerFlag(name: string): Promise<boolean>;
  /** Stops renewing leases (they run out) and disconnects; nothing is released. */
  close(): Promise<void>;
}
