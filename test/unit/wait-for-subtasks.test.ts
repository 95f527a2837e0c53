import { describe, expect, it } from 'vitest';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { waitForSubtasks } from '../../src/orchestrate/wait-for-subtasks.js';
import { sampleRun, sampleSubtask } from '../contract/coord-store.contract.js';

describe('waitForSubtasks', () => {
  it('wakes on each store change and returns when every subtask is final', async () => {
    const store = new MemoryCoordStore();
    await store.createRun(sampleRun('r'));
    await store.putSubtask(sampleSubtask('r', 'a'));
    await store.putSubtask(sampleSubtask('r', 'b'));
    const never = new Promise<void>(() => undefined);
    const waiting = waitForSubtasks(store, 'r', ['a', 'b'], never);
    let done = false;
    void waiting.then(() => (done = true));
    await store.updateSubtask('r', 'a', { state: 'succeeded' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    await store.updateSubtask('r', 'b', { state: 'failed' });
    expect((await waiting).map((record) => record.state).sort()).toEqual(['failed', 'succeeded']);
  });

  it('sees at once a job that died without recording its end', async () => {
    const store = new MemoryCoordStore();
    await store.createRun(sampleRun('r'));
    await store.putSubtask({ ...sampleSubtask('r', 'a'), state: 'running' });
    const started = Date.now();
    const records = await waitForSubtasks(
      store,
      'r',
      ['a'],
      Promise.reject(new Error('worker died')).catch(() => undefined),
    );
    expect(Date.now() - started).toBeLessThan(500);
    expect(records[0]!.state).toBe('running');
  });
});
