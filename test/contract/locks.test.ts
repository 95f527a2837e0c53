import { MemoryLocks } from '../../src/adapters/coord/memory-locks.js';
import { RedisLocks } from '../../src/adapters/coord/redis-locks.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { locksContract } from './locks.contract.js';

locksContract('memory (test double)', async (ttlMs) => {
  const locks = new MemoryLocks({ ttlMs });
  return { locks, peer: async () => locks.peer() };
});
describeWithRedis('Redis (real server)', () => {
  locksContract('redis', async (ttlMs) => {
    const prefix = testPrefix();
    return {
      locks: new RedisLocks(TEST_REDIS_URL, prefix, { ttlMs }),
      peer: async () => new RedisLocks(TEST_REDIS_URL, prefix, { ttlMs }),
    };
  });
});
