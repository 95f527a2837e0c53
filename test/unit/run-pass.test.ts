import { describe, expect, it } from 'vitest';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { MemoryLocks } from '../../src/adapters/coord/memory-locks.js';
import { handleRunPass, type RunPassDeps } from '../../src/orchestrate/jobs/run-pass.js';
import { sampleRun } from '../contract/coord-store.contract.js';

async function setup(pass: RunPassDeps['pass']) {
  const store = new MemoryCoordStore();
  await store.createRun({ ...sampleRun('r1'), state: 'running' });
  const locks = new MemoryLocks({ ttlMs: 200 });
  const deps: RunPassDeps = { store, locks, leaseMs: 200, pass };
  return { store, locks, deps };
}

describe('a pass over a run, on a worker', () => {
  it('answers a request for a busy run within a lease time (the holder goes round again), not holding a worker slot longer', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const { deps } = await setup(async () => {
      calls += 1;
      if (calls === 1) await blocked;
    });
    const holder = handleRunPass(deps, 'r1');
    await expect.poll(() => calls).toBe(1);
    // Ends while the first pass still runs: it raised the flag and left.
    await handleRunPass(deps, 'r1');
    expect(calls).toBe(1);
    release();
    await holder;
    expect(calls).toBe(2);
  });

  it('stops a pass whose lease was lost, recording nothing on the run, and goes on in the same job once it holds the run again', async () => {
    const stops: unknown[] = [];
    let calls = 0;
    const { store, locks, deps } = await setup(async (_run, signal) => {
      calls += 1;
      if (calls > 1) return;
      await new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          stops.push(signal.reason);
          resolve();
        }),
      );
    });
    const passing = handleRunPass(deps, 'r1');
    await expect.poll(() => calls).toBe(1);
    // This process stops renewing (as when Redis was out of reach past the lease).
    await locks.close();
    await passing;
    expect(stops).toMatchObject([{ code: 'lease-lost' }]);
    expect(calls).toBe(2);
    expect(await store.getRun('r1')).toMatchObject({ state: 'running' });
    // This job went on with the run and let it go: whoever follows the job saw the second pass end.
    expect(await locks.peer().tryAcquire('run:r1')).not.toBeNull();
  });

  it('gives up on a run whose lease it lost three times in a row, saying why on the run', async () => {
    let calls = 0;
    const { store, locks, deps } = await setup(async (_run, signal) => {
      calls += 1;
      await locks.close();
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
    await handleRunPass(deps, 'r1');
    expect(calls).toBe(3);
    const run = await store.getRun('r1');
    expect(run?.state).toBe('running');
    expect(run?.error).toContain('lost its hold on the run 3 times in a row');
  });

  it('clears the reason a failed pass left once the next pass gets going', async () => {
    let calls = 0;
    const { store, deps } = await setup(async () => {
      calls += 1;
      if (calls === 1) throw new Error('Redis blip');
    });
    await handleRunPass(deps, 'r1');
    expect((await store.getRun('r1'))?.error).toContain('Redis blip');
    await handleRunPass(deps, 'r1');
    expect((await store.getRun('r1'))?.error).toBeUndefined();
  });

  it('never passes over a cancelled run again, though a request for it was waiting', async () => {
    const states: string[] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const { store, deps } = await setup(async (run) => {
      states.push(run.state);
      if (states.length === 1) await blocked;
    });
    const holder = handleRunPass(deps, 'r1');
    await expect.poll(() => states.length).toBe(1);
    // An event asks for another pass (the flag is raised), then a person cancels the run.
    await handleRunPass(deps, 'r1');
    await store.updateRun('r1', { state: 'cancelled', error: 'cancelled by @maintainer' });
    release();
    await holder;
    expect(states).toEqual(['running']);
    expect(await store.getRun('r1')).toMatchObject({ state: 'cancelled' });
  });

  it('records why a pass failed on the run, which keeps its state (its agents elsewhere go on), with how to go on', async () => {
    const { store, deps } = await setup(async () => {
      throw new Error('git rev-parse failed: not a git repository');
    });
    await handleRunPass(deps, 'r1');
    const run = await store.getRun('r1');
    expect(run).toMatchObject({ state: 'running' });
    expect(run?.error).toContain('not a git repository');
    expect(run?.error).toContain('fanout resume r1');
  });
});
