import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { redisAnswers } from './redis-probe.js';

/** Where the tests' Redis listens: REDIS_URL, or the local default. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own, so tests sharing one Redis never see each other's keys. */
export function testPrefix(): string {
  return `fanout-test-${randomUUID()}`;
}

const available = await redisAnswers(TEST_REDIS_URL);

/**
 * Runs a suite against a real Redis. In CI a missing Redis fails (CI starts redis-server, so
 * "skipped" would hide a broken setup); on a developer's machine without one it is skipped, by name.
 */
export function describeWithRedis(name: string, suite: () => void): void {
  if (available) {
    describe(name, suite);
    return;
  }
  const why = `nothing answers at ${TEST_REDIS_URL} (start redis-server, or set REDIS_URL)`;
  if (process.env.CI) {
    describe(name, () => {
      it(`needs Redis: ${why}`, () => {
        throw new Error(`CI must run the Redis tests, but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, suite);
}
