import { afterEach, describe, expect, it } from 'vitest';
import type { FanoutJob, JobQueue, JobWorker } from '../../src/ports/job-queue.js';

/** A controllable handler: records the jobs it got, and lets each finish (or fail) when told. */
function gate() {
  const started: FanoutJob[] = [];
  const waiters: Array<() => void> = [];
  const releases = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const handler = (job: FanoutJob) =>
    new Promise<void>((resolve, reject) => {
      started.push(job);
      releases.set(runIdOf(job), { resolve, reject });
      for (const wake of waiters.splice(0)) wake();
    });
  /** Resolves once `count` jobs have started. */
  const startedCount = async (count: number) => {
    while (started.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { started, handler, startedCount, releases };
}

const runIdOf = (job: FanoutJob) => ('runId' in job ? job.runId : job.kind);
const pass = (runId: string): FanoutJob => ({ kind: 'run-pass', runId });

/** The behaviour every JobQueue must show, as the port's doc comments state it. */
export function jobQueueContract(name: string, make: () => Promise<JobQueue>): void {
  describe(`JobQueue contract: ${name}`, () => {
    const opened: JobQueue[] = [];
    const workers: JobWorker[] = [];
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((worker) => worker.stop({ drain: false })));
      await Promise.all(opened.splice(0).map((queue) => queue.close()));
    });
    const queueFor = async () => {
      const queue = await make();
      opened.push(queue);
      return queue;
    };

    it('keeps a job added while no worker runs, and a worker started later runs it once', async () => {
      const queue = await queueFor();
      await queue.add('run-a-1', pass('a'));
      await queue.add('run-a-1', pass('a'));
      expect(await queue.waiting('runs')).toBe(1);
      const { started, handler, startedCount, releases } = gate();
      workers.push(queue.work({ runs: 2 }, handler));
      await startedCount(1);
      releases.get('a')!.resolve();
      expect(await queue.outcome('runs', 'run-a-1')).toBe('completed');
      // Added again after it finished: still the same job, not run again.
      await queue.add('run-a-1', pass('a'));
      expect(await queue.outcome('runs', 'run-a-1')).toBe('completed');
      expect(started).toEqual([pass('a')]);
      expect(await queue.waiting('runs')).toBe(0);
    });

    it('runs at most `concurrency` jobs of a queue at once, and reports a failed one', async () => {
      const queue = await queueFor();
      const { started, handler, startedCount, releases } = gate();
      workers.push(queue.work({ runs: 2 }, handler));
      for (const id of ['a', 'b', 'c']) await queue.add(`run-${id}`, pass(id));
      await startedCount(2);
      expect(started).toHaveLength(2);
      const [first, second] = started.map(runIdOf);
      releases.get(first!)!.reject(new Error('broken'));
      await startedCount(3);
      releases.get(second!)!.resolve();
      releases.get(runIdOf(started[2]!))!.resolve();
      expect(await queue.outcome('runs', `run-${first}`)).toBe('failed');
      expect(await queue.outcome('runs', `run-${second}`)).toBe('completed');
    });

    it('holds a delayed job until its delay has passed, then runs it once; its id is taken meanwhile', async () => {
      const queue = await queueFor();
      const { started, handler, startedCount, releases } = gate();
      workers.push(queue.work({ runs: 1 }, handler));
      const added = Date.now();
      await queue.add('later', pass('later'), { delayMs: 400 });
      await queue.add('later', pass('later'));
      expect(await queue.waiting('runs')).toBe(0);
      await startedCount(1);
      expect(Date.now() - added).toBeGreaterThanOrEqual(390);
      releases.get('later')!.resolve();
      expect(await queue.outcome('runs', 'later')).toBe('completed');
      expect(started).toEqual([pass('later')]);
    });

    it('gives a job only to workers of its queue', async () => {
      const queue = await queueFor();
      const runs = gate();
      const agents = gate();
      workers.push(queue.work({ runs: 1 }, runs.handler), queue.work({ agents: 1 }, agents.handler));
      const agent: FanoutJob = {
        kind: 'agent',
        runId: 'r',
        subtaskId: 's',
        baseCommit: 'c'.repeat(40),
        generation: '0',
      };
      await queue.add('agent-r-s-0', agent);
      await agents.startedCount(1);
      agents.releases.get('r')!.resolve();
      expect(await queue.outcome('agents', 'agent-r-s-0')).toBe('completed');
      expect(runs.started).toEqual([]);
      expect(agents.started).toEqual([agent]);
    });

    it('stops taking jobs when stopped, finishing the ones in hand when draining', async () => {
      const queue = await queueFor();
      const { started, handler, startedCount, releases } = gate();
      const worker = queue.work({ runs: 1 }, handler);
      await queue.add('run-a', pass('a'));
      await startedCount(1);
      const stopping = worker.stop({ drain: true });
      await queue.add('run-b', pass('b'));
      releases.get('a')!.resolve();
      await stopping;
      expect(await queue.outcome('runs', 'run-a')).toBe('completed');
      expect(started).toEqual([pass('a')]);
      expect(await queue.waiting('runs')).toBe(1);
    });

    it('hands back the jobs of the queues named, draining the others', async () => {
      const queue = await queueFor();
      const first = gate();
      const worker = queue.work({ runs: 1, agents: 1 }, first.handler);
      await queue.add('run-r', pass('r'));
      await queue.add('agent-a', {
        kind: 'agent',
        runId: 'a',
        subtaskId: 's',
        baseCommit: 'c'.repeat(40),
        generation: '0',
      });
      await first.startedCount(2);
      const stopping = worker.stop({ drain: true, handBack: ['runs'] });
      first.releases.get('a')!.resolve();
      await stopping;
      expect(await queue.outcome('agents', 'agent-a')).toBe('completed');
      // The pass handed back runs again on the next worker (once the first one's claim runs out).
      const second = gate();
      workers.push(queue.work({ runs: 1 }, second.handler));
      await second.startedCount(1);
      expect(second.started).toEqual([pass('r')]);
      second.releases.get('r')!.resolve();
      expect(await queue.outcome('runs', 'run-r')).toBe('completed');
    });
  });
}
