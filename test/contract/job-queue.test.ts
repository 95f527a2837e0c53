import { BullJobQueue } from '../../src/adapters/queue/bullmq-job-queue.js';
import { MemoryJobQueue } from '../../src/adapters/queue/memory-job-queue.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('memory (test double)', async () => new MemoryJobQueue());
describeWithRedis('BullMQ on a real Redis', () => {
  jobQueueContract('bullmq', async () => new BullJobQueue(TEST_REDIS_URL, { prefix: testPrefix(), lockMs: 2_000 }));
});
