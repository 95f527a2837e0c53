import { parseRepoConfig } from '../../src/config/repo-config.js';
import { describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../src/domain/command.js';
import type { RunRecord, SubtaskRecord } from '../../src/domain/run.js';
import type { CoordStore, StoreChange } from '../../src/ports/coord-store.js';

export function sampleRun(id: string, createdAt = new Date().toISOString()): RunRecord {
  return {
    id,
    repo: '/repo',
    origin: { kind: 'local', path: '/repo' },
    task: 'Do things',
    baseBranch: 'main',
    baseCommit: 'a'.repeat(40),
    state: 'planning',
    config: parseRepoConfig(null),
    notes: [],
    createdAt,
    updatedAt: createdAt,
  };
}

export function sampleSubtask(runId: string, subtaskId: string): SubtaskRecord {
  return { runId, subtaskId, state: 'pending', attempt: 0, step: 0, updatedAt: new Date().toISOString() };
}

/** A command as the App stores it for an `/orchestrate` comment; `id` is the delivery id. */
export function sampleCommand(id: string, commentId: number, overrides: Partial<CommandRecord> = {}): CommandRecord {
  const at = new Date().toISOString();
  return {
    id,
    target: {
      owner: 'Codertocat',
      repo: 'Hello-World',
      installationId: 1,
      cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
      htmlUrl: 'https://github.com/Codertocat/Hello-World',
      defaultBranch: 'master',
    },
    issue: 1,
    commentId,
    sender: 'Codertocat',
    command: { kind: 'orchestrate', task: 'Add a README section' },
    state: 'received',
    receivedAt: at,
    updatedAt: at,
    ...overrides,
  };
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
          for (let n = 0; n < 500; n += 1)
            await store.appendEvent('busy', `agent-${writer}`, { type: 'tool-call', data: { n } });
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
        Array.from({ length: 200 }, (_, n) => store.appendEvent('shared', 'agent', { type: 'tool-call', data: { n } })),
      );
      expect(results.map((event) => event.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 200 }, (_, n) => n + 1),
      );
      expect((await store.readEvents('shared', 'agent', 150)).map((event) => event.seq)).toEqual(
        Array.from({ length: 50 }, (_, n) => n + 151),
      );
      await store.close();
    });

    it('stores a command once, and reads it back', async () => {
      const store = await makeStore();
      const command = sampleCommand('d-1', 101);
      expect(await store.recordCommand(command)).toBe(true);
      expect(await store.getCommand('d-1')).toEqual(command);
      expect(await store.getCommand('d-missing')).toBeNull();
      await store.close();
    });

    it('refuses the same delivery id again and stores nothing, even with other content', async () => {
      const store = await makeStore();
      await store.recordCommand(sampleCommand('d-1', 101));
      expect(await store.recordCommand(sampleCommand('d-1', 101))).toBe(false);
      expect(await store.recordCommand(sampleCommand('d-1', 202, { command: { kind: 'status' } }))).toBe(false);
      expect(await store.listCommands()).toEqual([
        sampleCommand('d-1', 101, { receivedAt: expect.any(String), updatedAt: expect.any(String) }),
      ]);
      // The other comment was not claimed by the refused call: it can still arrive on its own delivery.
      expect(await store.recordCommand(sampleCommand('d-2', 202))).toBe(true);
      await store.close();
    });

    it('refuses the same comment under a new delivery id (in any letter case of the repository)', async () => {
      const store = await makeStore();
      await store.recordCommand(sampleCommand('d-1', 101));
      expect(await store.recordCommand(sampleCommand('d-2', 101))).toBe(false);
      const shouted = sampleCommand('d-3', 101);
      shouted.target = { ...shouted.target, owner: 'CODERTOCAT', repo: 'hello-world' };
      expect(await store.recordCommand(shouted)).toBe(false);
      expect(await store.getCommand('d-2')).toBeNull();
      expect((await store.listCommands()).map((command) => command.id)).toEqual(['d-1']);
      // The same comment number in another repository is another comment.
      const elsewhere = sampleCommand('d-4', 101);
      elsewhere.target = { ...elsewhere.target, repo: 'Other' };
      expect(await store.recordCommand(elsewhere)).toBe(true);
      await store.close();
    });

    it('stores exactly one of 10 concurrent duplicates, by delivery and by comment', async () => {
      const store = await makeStore();
      const sameDelivery = await Promise.all(
        Array.from({ length: 10 }, () => store.recordCommand(sampleCommand('d-same', 300))),
      );
      const sameComment = await Promise.all(
        Array.from({ length: 10 }, (_, n) => store.recordCommand(sampleCommand(`d-c${n}`, 400))),
      );
      expect(sameDelivery.filter(Boolean)).toHaveLength(1);
      expect(sameComment.filter(Boolean)).toHaveLength(1);
      const stored = await store.listCommands();
      expect(stored.filter((command) => command.commentId === 300).map((command) => command.id)).toEqual(['d-same']);
      expect(stored.filter((command) => command.commentId === 400)).toHaveLength(1);
      expect(stored.find((command) => command.commentId === 400)?.id).toBe(`d-c${sameComment.indexOf(true)}`);
      await store.close();
    });

    it('updates commands field by field and lists them oldest first', async () => {
      const store = await makeStore();
      await store.recordCommand(sampleCommand('d-late', 2, { receivedAt: '2026-01-02T00:00:00.000Z' }));
      await store.recordCommand(sampleCommand('d-early', 1, { receivedAt: '2026-01-01T00:00:00.000Z' }));
      const updated = await store.updateCommand('d-early', {
        state: 'done',
        runId: 'run-9',
        outcome: 'Started run run-9.',
      });
      expect(updated).toMatchObject({
        id: 'd-early',
        state: 'done',
        runId: 'run-9',
        commentId: 1,
        command: { kind: 'orchestrate' },
      });
      expect(await store.getCommand('d-early')).toEqual(updated);
      expect((await store.listCommands()).map((command) => [command.id, command.state])).toEqual([
        ['d-early', 'done'],
        ['d-late', 'received'],
      ]);
      await expect(store.updateCommand('d-missing', { state: 'failed' })).rejects.toMatchObject({
        code: 'command-not-found',
      });
      // An update does not free the dedupe keys.
      expect(await store.recordCommand(sampleCommand('d-early', 1))).toBe(false);
      expect(await store.recordCommand(sampleCommand('d-new', 1))).toBe(false);
      await store.close();
    });

    it('answers a ping (the health check) while it works, before anything is stored too', async () => {
      const store = await makeStore();
      await expect(store.ping()).resolves.toBeUndefined();
      await store.createRun(sampleRun('pinged'));
      await expect(store.ping()).resolves.toBeUndefined();
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
