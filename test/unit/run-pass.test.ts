import { describe, expect, it } from 'vitest';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { MemoryLocks } from '../../src/adapters/coord/memory-locks.js';
import { MemoryJobQueue } from '../../src/adapters/queue/memory-job-queue.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import type { RunRecord } from '../../src/domain/run.js';
import { handleRunPass, type RunPassDeps } from '../../src/orchestrate/jobs/run-pass.js';

async function setup(pass: RunPassDeps['pass']) {
  const store = new MemoryCoordStore();
  const run: RunRecord = {
    id: 'r1',
    repo: '/r',
    origin: { kind: 'local', path: '/r' },
    task: 't',
    baseBranch: 'main',
    baseCommit: 'c'.repeat(40),
    state: 'running',
    config: parseRepoConfig(null),
    notes: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  await store.createRun(run);
  const locks = new MemoryLocks({ ttlMs: 200 });
  const deps: RunPassDeps = { store, locks, jobs: new MemoryJobQueue(), leaseMs: 200, pass };
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

  it('stops a pass whose lease was lost, recording nothing on the run (whoever holds it now goes on)', async () => {
    let stopped: unknown;
    const { store, locks, deps } = await setup(
      (_run, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            stopped = signal.reason;
            resolve();
          }),
        ),
    );
    const passing = handleRunPass(deps, 'r1');
    await expect.poll(async () => (await locks.peer().tryAcquire('run:r1')) === null).toBe(true);
    // This process stops renewing (as when Redis was out of reach past the lease).
    await locks.close();
    await passing;
    expect(stopped).toMatchObject({ code: 'lease-lost' });
    expect(await store.getRun('r1')).toMatchObject({ state: 'running' });
  });

  it('records a pass that failed on the run as interrupted, with how to go on', async () => {
    const { store, deps } = await setup(async () => {
      throw new Error('git rev-parse failed: not a git repository');
    });
    await handleRunPass(deps, 'r1');
    const run = await store.getRun('r1');
    expect(run).toMatchObject({ state: 'cancelled' });
    expect(run?.error).toContain('not a git repository');
    expect(run?.error).toContain('fanout resume r1');
  });
});
