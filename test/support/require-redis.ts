import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { describe, it } from 'vitest';

/** Where the tests' Redis listens: REDIS_URL, or the local default. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own, so tests sharing one Redis never see each other's keys. */
export function testPrefix(): string {
  return `fanout-test-${randomUUID()}`;
}

/** Whether something answers on the Redis address (a TCP connect, then PING). */
async function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname || '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
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
