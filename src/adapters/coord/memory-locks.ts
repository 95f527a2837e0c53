import { LeaseLostError } from '../../domain/errors.js';
import type { Lease, Locks } from '../../ports/locks.js';

interface Holder {
  token: number;
  expiresAt: number;
  lost: AbortController;
}

/** What every instance over the same locks sees (instances stand for processes). */
interface Shared {
  locks: Map<string, Holder>;
  slots: Map<string, Set<Holder>>;
  flags: Set<string>;
  tokens: Map<string, number>;
  waiters: Set<() => void>;
}

/**
 * Locks, semaphores and flags within one process: the test double of RedisLocks, with the same
 * leases (renewed until released, run out when the instance is closed without releasing).
 * `peer()` is another process's view of the same locks.
 */
export class MemoryLocks implements Locks {
  /** Live leases of this instance: closing it loses them (nobody renews them any more). */
  private readonly live = new Set<() => void>();
  private readonly locks: Map<string, Holder>;
  private readonly slots: Map<string, Set<Holder>>;
  private readonly flags: Set<string>;
  private readonly tokens: Map<string, number>;
  private readonly waiters: Set<() => void>;

  constructor(
    private readonly options: { ttlMs: number } = { ttlMs: 10_000 },
    private readonly shared: Shared = {
      locks: new Map(),
      slots: new Map(),
      flags: new Set(),
      tokens: new Map(),
      waiters: new Set(),
    },
  ) {
    ({ locks: this.locks, slots: this.slots, flags: this.flags, tokens: this.tokens, waiters: this.waiters } = shared);
  }

  /** Another instance over the same locks, as another process would have. */
  peer(): MemoryLocks {
    return new MemoryLocks(this.options, this.shared);
  }

  async tryAcquire(name: string): Promise<Lease | null> {
    const current = this.locks.get(name);
    if (current && current.expiresAt > Date.now()) return null;
    const holder = this.holder(`lock:${name}`);
    this.locks.set(name, holder);
    return this.lease(
      name,
      holder,
      () => this.locks.get(name) === holder,
      () => {
        if (this.locks.get(name) === holder) this.locks.delete(name);
      },
    );
  }

  async acquire(name: string, signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      signal?.throwIfAborted();
      const lease = await this.tryAcquire(name);
      if (lease) return lease;
      await this.change(Math.max(1, (this.locks.get(name)?.expiresAt ?? Date.now()) - Date.now()), signal);
    }
  }

  async acquireSlot(name: string, limit: number, signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      signal?.throwIfAborted();
      const held = this.slots.get(name) ?? new Set<Holder>();
      this.slots.set(name, held);
      for (const holder of held) if (holder.expiresAt <= Date.now()) held.delete(holder);
      if (held.size < limit) {
        const holder = this.holder(`slots:${name}`);
        held.add(holder);
        return this.lease(
          name,
          holder,
          () => held.has(holder),
          () => held.delete(holder),
        );
      }
      const next = Math.min(...[...held].map((holder) => holder.expiresAt)) - Date.now();
      await this.change(Math.max(1, next), signal);
    }
  }

  async raiseFlag(name: string): Promise<void> {
    this.flags.add(name);
  }

  async lowerFlag(name: string): Promise<boolean> {
    return this.flags.delete(name);
  }

  async close(): Promise<void> {
    for (const lose of [...this.live]) lose();
    this.wakeAll();
  }

  private holder(counter: string): Holder {
    const token = (this.tokens.get(counter) ?? 0) + 1;
    this.tokens.set(counter, token);
    return { token, expiresAt: Date.now() + this.options.ttlMs, lost: new AbortController() };
  }

  private lease(name: string, holder: Holder, current: () => boolean, remove: () => void): Lease {
    const timer = setInterval(
      () => {
        if (current()) holder.expiresAt = Date.now() + this.options.ttlMs;
        else stop(true);
      },
      Math.max(20, Math.floor(this.options.ttlMs / 3)),
    );
    timer.unref();
    const stop = (lost: boolean) => {
      clearInterval(timer);
      this.live.delete(lose);
      if (lost) holder.lost.abort(new LeaseLostError(name));
    };
    const lose = () => stop(true);
    this.live.add(lose);
    return {
      token: holder.token,
      lost: holder.lost.signal,
      check: async () => {
        if (holder.lost.signal.aborted || !current() || holder.expiresAt <= Date.now()) {
          stop(true);
          throw new LeaseLostError(name);
        }
      },
      release: async () => {
        stop(false);
        remove();
        this.wakeAll();
      },
    };
  }

  /** Waits for a release, or `ms` (when a holder's lease runs out), or the signal. */
  private async change(ms: number, signal?: AbortSignal): Promise<void> {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
    try {
      await woken;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(wake);
      signal?.removeEventListener('abort', wake);
    }
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
