import { afterEach, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisCoordStore } from '../../src/adapters/coord/redis-store.js';
import { loadEnv } from '../../src/config/env.js';
import { createDistributed, type Distributed } from '../../src/main-distributed.js';
import { sampleRun } from '../contract/coord-store.contract.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';

const opened: Distributed[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((distributed) => distributed.close()));
});

describeWithRedis('a deployment on Redis', () => {
  it('never writes to Redis a secret the process learns later (an installation token added to its redactor)', async () => {
    const prefix = testPrefix();
    const distributed = createDistributed(loadEnv({ REDIS_URL: TEST_REDIS_URL, FANOUT_REDIS_PREFIX: prefix }));
    opened.push(distributed);
    const token = 'ghs_learnedAfterStart1234567890abcdef';
    // What a worker's GitHub pipelines do with each installation token they get.
    distributed.redactor.add(token);
    await distributed.store.createRun(sampleRun('r1'));
    await distributed.store.appendEvent('r1', 'a1', { type: 'tool-call', data: { output: `push with ${token}` } });
    const raw = new Redis(TEST_REDIS_URL);
    try {
      const keys = await raw.keys(`${prefix}:*`);
      const values = await Promise.all(keys.map((key) => raw.dump(key)));
      expect(values.some((value) => value?.includes(token))).toBe(false);
    } finally {
      await raw.quit();
    }
    const reader = new RedisCoordStore(TEST_REDIS_URL, prefix);
    const events = await reader.readEvents('r1', 'a1').finally(() => reader.close());
    expect(JSON.stringify(events)).toContain('push with');
  });
});
