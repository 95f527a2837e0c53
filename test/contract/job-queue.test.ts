import { expect, it } from 'vitest';
import { BullJobQueue } from '../../src/adapters/queue/bullmq-job-queue.js';
import { MemoryJobQueue } from '../../src/adapters/queue/memory-job-queue.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('memory (test double)', async () => new MemoryJobQueue());
describeWithRedis('BullMQ on a real Redis', () => {
  jobQueueContract('bullmq', async () => new BullJobQueue(TEST_REDIS_URL, { prefix: testPrefix(), lockMs: 2_000 }));
});

describeWithRedis('BullMQ: the global agent limit (FANOUT_MAX_AGENTS)', () => {
  it('runs no more agent jobs at once across every worker than the limit', async () => {
    const queue = new BullJobQueue(TEST_REDIS_URL, { prefix: testPrefix(), lockMs: 2_000, globalAgentLimit: 1 });
    let running = 0;
    let most = 0;
    const handler = async () => {
      running += 1;
      most = Math.max(most, running);
      // Each job lasts a moment: room for others to start, if the limit let them.
      await new Promise((resolve) => setTimeout(resolve, 150));
      running -= 1;
    };
    const workers = [queue.work({ agents: 2 }, handler), queue.work({ agents: 2 }, handler)];
    const ids = ['a', 'b', 'c'].map((id) => `agent-r-${id}-0`);
    for (const [index, id] of ids.entries())
      await queue.add(id, {
        kind: 'agent',
        runId: 'r',
        subtaskId: 'abc'[index]!,
        baseCommit: 'c'.repeat(40),
        generation: '0',
      });
    expect(await Promise.all(ids.map((id) => queue.outcome('agents', id)))).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    expect(most).toBe(1);
    await Promise.all(workers.map((worker) => worker.stop({ drain: true })));
    await queue.close();
  });
});
