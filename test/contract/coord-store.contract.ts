import { parseRepoConfig } from '../../src/config/repo-config.js';
import { describe, expect, it } from 'vitest';
import type { RunRecord, SubtaskRecord } from '../../src/domain/run.js';
import type { CoordStore, StoreChange } from '../../src/ports/coord-store.js';

export function sampleRun(id: string, createdAt = new Date().toISOString()): RunRecord {
  return { id, repo: '/repo', origin: { kind: 'local', path: '/repo' }, task: 'Do things', baseBranch: 'main', baseCommit: 'a'.repeat(40), state: 'planning', config: parseRepoConfig(null), notes: [], createdAt, updatedAt: createdAt };
}

export function sampleSubtask(runId: string, subtaskId: string): SubtaskRecord {
  return { runId, subtaskId, state: 'pending', attempt: 0, step: 0, updatedAt: new Date().toISOString() };
}

/** The behaviour every CoordStore backend and test double must show. */
export function coordStoreContract(name: string, makeStore: () => Promise<CoordStore>): void {
  describe(`CoordStore contract: ${name}`, () => {
    it('creates, reads, lists and updates runs', async () => {
      const store = await makeStore();
      await store.createRun(sampleRun('run-2', '2026-01-02T00:00:00.000Z'));
      await store.createRun(sampleRun('run-1', '2026-01-01T00:00:00.000Z'));
      expect((await store.getRun('run-1'))?.task).toBe('Do things');
      expect(await store.getRun('missing')).toBeNull();
      expect((await store.listRuns()).map((run) => run.id)).toEqual(['run-1', 'run-2']);
      const updated = await store.updateRun('run-1', { state: 'running' });
      expect(updated.state).toBe('running');
      expect((await store.getRun('run-1'))?.state).toBe('running');
      await expect(store.updateRun('missing', { state: 'failed' })).rejects.toMatchObject({ code: 'run-not-found' });
      await store.close();
    });

    it('keeps subtasks per run and updates them field by field', async () => {
      const store = await makeStore();
      await store.createRun(sampleRun('r'));
      await store.putSubtask(sampleSubtask('r', 'a'));
      await store.putSubtask(sampleSubtask('r', 'b'));
      await store.updateSubtask('r', 'a', { state: 'running', step: 3, lastTool: 'read_file' });
      const a = await store.getSubtask('r', 'a');
      expect(a).toMatchObject({ state: 'running', step: 3, lastTool: 'read_file', attempt: 0 });
      expect((await store.listSubtasks('r')).map((record) => record.subtaskId).sort()).toEqual(['a', 'b']);
      await expect(store.updateSubtask('r', 'zz', { step: 1 })).rejects.toMatchObject({ code: 'subtask-not-found' });
      await store.close();
    });

    it('gives each agent a gapless sequence under 8 concurrent writers x 500 events', async () => {
      const store = await makeStore();
      await store.createRun(sampleRun('busy'));
      await Promise.all(
        Array.from({ length: 8 }, async (_, writer) => {
          for (let n = 0; n < 500; n += 1) await store.appendEvent('busy', `agent-${writer}`, { type: 'tool-call', data: { n } });
        }),
      );
      for (let writer = 0; writer < 8; writer += 1) {
        const events = await store.readEvents('busy', `agent-${writer}`);
        expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 500 }, (_, n) => n + 1));
        expect(events.map((event) => event.data.n)).toEqual(Array.from({ length: 500 }, (_, n) => n));
      }
      await store.close();
    });

    it('never hands out a number twice when writers share one agent log', async () => {
      const store = await makeStore();
      await store.createRun(sampleRun('shared'));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) => store.appendEvent('shared', 'agent', { type: 'step', data: { n } })),
      );
      expect(results.map((event) => event.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
      expect((await store.readEvents('shared', 'agent', 150)).map((event) => event.seq)).toEqual(Array.from({ length: 50 }, (_, n) => n + 151));
      await store.close();
    });

    it('tells watchers about changes as they happen', async () => {
      const store = await makeStore();
      await store.createRun(sampleRun('watched'));
      const seen: StoreChange[] = [];
      const unsubscribe = store.watch('watched', (change) => seen.push(change));
      await store.putSubtask(sampleSubtask('watched', 's1'));
      await store.appendEvent('watched', 's1', { type: 'agent-started' });
      await store.updateRun('watched', { state: 'running' });
      await waitFor(() => seen.some((change) => change.kind === 'run'));
      expect(seen).toContainEqual({ kind: 'subtask', runId: 'watched', subtaskId: 's1' });
      expect(seen).toContainEqual({ kind: 'event', runId: 'watched', agentId: 's1', seq: 1 });
      unsubscribe();
      const count = seen.length;
      await store.updateRun('watched', { state: 'succeeded' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen.length).toBe(count);
      await store.close();
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
