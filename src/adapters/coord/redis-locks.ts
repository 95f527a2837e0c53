import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LeaseLostError } from '../../domain/errors.js';
import type { Lease, Locks } from '../../ports/locks.js';

// Server time in milliseconds: leases from machines with skewed clocks still compare fairly.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: lock, token counter. ARGV: ttl. A free lock is taken with the next fencing token.
const TAKE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token`;

// KEYS: lock. ARGV: token, ttl.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// KEYS: lock. ARGV: token, channel, name.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

// KEYS: slots, token counter. ARGV: limit, ttl, member. Expired holders are dropped first.
const TAKE_SLOT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return redis.call('INCR', KEYS[2])`;

// KEYS: slots. ARGV: member, ttl.
const RENEW_SLOT = `${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return 1`;

// KEYS: slots. ARGV: member, channel, name.
const RELEASE_SLOT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

// KEYS: slots. Milliseconds until the first holder's lease runs out (-1: no holder).
const NEXT_EXPIRY = `${NOW}
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return -1 end
return math.max(0, tonumber(first[2]) - now)`;

export interface RedisLocksOptions {
  /** How long a lease lasts without renewal (renewed at a third of it). */
  ttlMs: number;
}

/**
 * Locks, semaphores and flags on Redis, shared by every process of a deployment. A lease is
 * renewed in the background; a holder that dies stops renewing and its lease runs out. Waiters
 * are woken by pub/sub when a lock or slot is released, and wake by themselves when a holder's
 * lease is due to run out.
 */
export class RedisLocks implements Locks {
  private readonly redis: Redis;
  private subscriber: Redis | undefined;
  private subscribing: Promise<void> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Live leases of this instance: closing it loses them (nobody renews them any more). */
  private readonly live = new Set<() => void>();

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly options: RedisLocksOptions,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
    // ioredis reconnects by itself; a failed command rejects where it was made.
    this.redis.on('error', () => undefined);
  }

  async tryAcquire(name: string): Promise<Lease | null> {
    const key = this.key('lock', name);
    const token = Number(await this.redis.eval(TAKE, 2, key, this.key('lock-token', name), this.options.ttlMs));
    if (token === 0) return null;
    return this.lease(name, token, {
      renew: async () => Number(await this.redis.eval(RENEW, 1, key, token, this.options.ttlMs)) === 1,
      current: async () => (await this.redis.get(key)) === String(token),
      release: async () => {
        await this.redis.eval(RELEASE, 1, key, token, this.channel(), this.wakeName('lock', name));
      },
    });
  }

  async acquire(name: string, signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      signal?.throwIfAborted();
      const woken = this.wakeOn(this.wakeName('lock', name));
      await this.subscribed();
      const lease = await this.tryAcquire(name);
      if (lease) {
        woken.cancel();
        return lease;
      }
      const left = await this.redis.pttl(this.key('lock', name));
      await woken.until(left > 0 ? left : 50, signal);
    }
  }

  async acquireSlot(name: string, limit: number, signal?: AbortSignal): Promise<Lease> {
    const key = this.key('slots', name);
    for (;;) {
      signal?.throwIfAborted();
      const woken = this.wakeOn(this.wakeName('slots', name));
      await this.subscribed();
      const member = randomUUID();
      const token = Number(
        await this.redis.eval(TAKE_SLOT, 2, key, this.key('slot-token', name), limit, this.options.ttlMs, member),
      );
      if (token !== 0) {
        woken.cancel();
        return this.lease(name, token, {
          renew: async () => Number(await this.redis.eval(RENEW_SLOT, 1, key, member, this.options.ttlMs)) === 1,
          current: async () => (await this.redis.zscore(key, member)) !== null,
          release: async () => {
            await this.redis.eval(RELEASE_SLOT, 1, key, member, this.channel(), this.wakeName('slots', name));
          },
        });
      }
      const next = Number(await this.redis.eval(NEXT_EXPIRY, 1, key));
      await woken.until(next >= 0 ? next + 5 : 50, signal);
    }
  }

  async raiseFlag(name: string): Promise<void> {
    await this.redis.set(this.key('flag', name), '1', 'EX', 24 * 3600);
  }

  async lowerFlag(name: string): Promise<boolean> {
    return (await this.redis.del(this.key('flag', name))) === 1;
  }

  async close(): Promise<void> {
    for (const lose of [...this.live]) lose();
    for (const wakers of this.waiters.values()) for (const wake of wakers) wake();
    await this.subscriber?.quit().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }

  /** A lease renewed every third of the TTL until released; `lost` fires when renewal fails. */
  private lease(
    name: string,
    token: number,
    ops: { renew: () => Promise<boolean>; current: () => Promise<boolean>; release: () => Promise<void> },
  ): Lease {
    const lost = new AbortController();
    let renewedAt = Date.now();
    const timer = setInterval(
      () => {
        void ops.renew().then(
          (held) => {
            if (held) renewedAt = Date.now();
            else lose();
          },
          // Redis unreachable: the lease holds until its TTL since the last renewal.
          () => {
            if (Date.now() - renewedAt >= this.options.ttlMs) lose();
          },
        );
      },
      Math.max(50, Math.floor(this.options.ttlMs / 3)),
    );
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      this.live.delete(lose);
    };
    const lose = () => {
      stop();
      lost.abort(new LeaseLostError(name));
    };
    this.live.add(lose);
    return {
      token,
      lost: lost.signal,
      check: async () => {
        if (lost.signal.aborted || !(await ops.current())) {
          lose();
          throw new LeaseLostError(name);
        }
      },
      release: async () => {
        stop();
        await ops.release();
      },
    };
  }

  /** Registers interest in a release message before looking, so none is missed in between. */
  private wakeOn(wakeName: string): { until: (ms: number, signal?: AbortSignal) => Promise<void>; cancel: () => void } {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(wakeName) ?? new Set<() => void>();
    this.waiters.set(wakeName, set);
    set.add(wake);
    const cancel = () => {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(wakeName);
    };
    return {
      cancel,
      until: async (ms, signal) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => wake();
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
        } finally {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          cancel();
        }
      },
    };
  }

  /** One subscription per instance, made on first need; every caller waits until it is in place. */
  private subscribed(): Promise<void> {
    if (!this.subscribing) {
      const subscriber = new Redis(this.redis.options);
      subscriber.on('error', () => undefined);
      this.subscriber = subscriber;
      subscriber.on('message', (_channel: string, wakeName: string) => {
        for (const wake of this.waiters.get(wakeName) ?? []) wake();
      });
      this.subscribing = subscriber.subscribe(this.channel()).then(() => undefined);
    }
    return this.subscribing;
  }

  private channel(): string {
    return this.key('released');
  }

  private wakeName(kind: string, name: string): string {
    return `${kind}:${name}`;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }
}
