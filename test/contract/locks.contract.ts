import { afterEach, describe, expect, it } from 'vitest';
import type { Lease, Locks } from '../../src/ports/locks.js';

/** Two views of the same locks, as two processes have, with leases lasting `ttlMs` unrenewed. */
export type LocksFactory = (ttlMs: number) => Promise<{ locks: Locks; peer: () => Promise<Locks> }>;

/** The behaviour every Locks must show, as the port's doc comments state it. */
export function locksContract(name: string, make: LocksFactory): void {
  describe(`Locks contract: ${name}`, () => {
    const opened: Locks[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((locks) => locks.close()));
    });
    const pair = async (ttlMs: number) => {
      const made = await make(ttlMs);
      const peer = await made.peer();
      opened.push(made.locks, peer);
      return { a: made.locks, b: peer };
    };

    it('gives a lock to one holder at a time, each new holder a higher token', async () => {
      const { a, b } = await pair(10_000);
      const first = await a.tryAcquire('merge:repo');
      expect(first).not.toBeNull();
      expect(await b.tryAcquire('merge:repo')).toBeNull();
      await first!.check();
      await first!.release();
      const second = await b.tryAcquire('merge:repo');
      expect(second!.token).toBeGreaterThan(first!.token);
      await expect(first!.check()).rejects.toMatchObject({ code: 'lease-lost' });
      await second!.release();
    });

    it('wakes a waiter as soon as the lock is released, long before the lease would run out', async () => {
      const { a, b } = await pair(60_000);
      const held = (await a.tryAcquire('run:r'))!;
      let got: Lease | undefined;
      const waiting = b.acquire('run:r').then((lease) => (got = lease));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(got).toBeUndefined();
      await held.release();
      await waiting;
      expect(got!.token).toBeGreaterThan(held.token);
      await got!.release();
    });

    it('lets a lock whose holder stopped renewing (a killed process) run out, and tells the old lease', async () => {
      const { a, b } = await pair(400);
      const old = (await a.tryAcquire('run:r'))!;
      // Kept while renewed: well past the TTL, still held.
      await new Promise((resolve) => setTimeout(resolve, 900));
      expect(await b.tryAcquire('run:r')).toBeNull();
      await old.check();
      await a.close();
      const next = await b.acquire('run:r');
      expect(next.token).toBeGreaterThan(old.token);
      await expect(old.check()).rejects.toMatchObject({ code: 'lease-lost' });
      expect(old.lost.aborted).toBe(true);
      await next.release();
    });

    it('gives out at most `limit` slots, the next one when a holder releases', async () => {
      const { a, b } = await pair(10_000);
      const one = await a.acquireSlot('agents:repo', 2);
      const two = await b.acquireSlot('agents:repo', 2);
      let third: Lease | undefined;
      const waiting = a.acquireSlot('agents:repo', 2).then((lease) => (third = lease));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(third).toBeUndefined();
      await two.release();
      await waiting;
      await one.check();
      await Promise.all([one.release(), third!.release()]);
      const stop = new AbortController();
      stop.abort();
      await expect(a.acquireSlot('agents:repo', 0, stop.signal)).rejects.toBeDefined();
    });

    it('raises and lowers flags, seen by every process', async () => {
      const { a, b } = await pair(10_000);
      expect(await b.lowerFlag('again:r')).toBe(false);
      await a.raiseFlag('again:r');
      await a.raiseFlag('again:r');
      expect(await b.lowerFlag('again:r')).toBe(true);
      expect(await a.lowerFlag('again:r')).toBe(false);
    });
  });
}
