import { execFile } from 'node:child_process';
import { appendFile, chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { sampleRun, sampleSubtask } from '../contract/coord-store.contract.js';
import { tempDir } from '../support/temp-dir.js';

const run = promisify(execFile);

describe('FileCoordStore', () => {
  it('keeps sequences gapless across 4 processes writing one agent log', async () => {
    const root = await tempDir();
    const store = new FileCoordStore(root);
    await store.createRun(sampleRun('multi'));
    const worker = new URL('../support/append-events-worker.ts', import.meta.url).pathname;
    await Promise.all(
      [0, 1, 2, 3].map((writer) =>
        run(process.execPath, ['--import', 'tsx', worker, root, 'multi', 'agent', '150', String(writer)]),
      ),
    );
    const events = await store.readEvents('multi', 'agent');
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 600 }, (_, n) => n + 1));
    for (let writer = 0; writer < 4; writer += 1) {
      const own = events.filter((event) => event.data.writer === writer).map((event) => event.data.n);
      expect(own).toEqual(Array.from({ length: 150 }, (_, n) => n));
    }
  }, 60_000);

  it('sees another process write through the directory watcher', async () => {
    const root = await tempDir();
    const reader = new FileCoordStore(root);
    const writer = new FileCoordStore(root);
    await writer.createRun(sampleRun('x'));
    const seen: string[] = [];
    const unsubscribe = reader.watch('x', (change) => seen.push(change.kind));
    await writer.appendEvent('x', 'a', { type: 'agent-started' });
    const deadline = Date.now() + 2_000;
    while (!seen.includes('event') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toContain('event');
    unsubscribe();
    await reader.close();
  });

  it('stores records a person can read and recovers from a torn last event line', async () => {
    const root = await tempDir();
    const store = new FileCoordStore(root);
    await store.createRun(sampleRun('torn'));
    await store.appendEvent('torn', 'a', { type: 'model-call' });
    expect(await readFile(join(root, 'runs/torn/run.json'), 'utf8')).toContain('\n  "task": "Do things",\n');
    await appendFile(join(root, 'runs/torn/events.a.jsonl'), '{"seq":2,"at":"x","ty');
    expect((await store.readEvents('torn', 'a')).map((event) => event.seq)).toEqual([1]);
    expect((await store.appendEvent('torn', 'a', { type: 'tool-call' })).seq).toBe(2);
    expect((await store.readEvents('torn', 'a')).map((event) => event.type)).toEqual(['model-call', 'tool-call']);
  });

  it('keeps the state private: directories 0700 and records 0600, whatever the umask, also when replacing older files', async () => {
    const root = join(await tempDir(), 'state');
    const mode = async (path: string) => (await stat(join(root, path))).mode & 0o777;
    const previousUmask = process.umask(0o000);
    try {
      const store = new FileCoordStore(root);
      await store.createRun(sampleRun('private'));
      await store.putSubtask(sampleSubtask('private', 'a'));
      await store.appendEvent('private', 'a', { type: 'model-call' });
      for (const dir of ['.', 'runs', 'runs/private']) expect(await mode(dir), dir).toBe(0o700);
      for (const file of ['runs/private/run.json', 'runs/private/subtask.a.json', 'runs/private/events.a.jsonl'])
        expect(await mode(file), file).toBe(0o600);

      // Files an older Fanout left readable by everyone become private when written again.
      for (const file of ['runs/private/run.json', 'runs/private/subtask.a.json', 'runs/private/events.a.jsonl'])
        await chmod(join(root, file), 0o644);
      await chmod(join(root, 'runs/private'), 0o755);
      await store.updateRun('private', { state: 'running' });
      await store.updateSubtask('private', 'a', { step: 1 });
      await store.appendEvent('private', 'a', { type: 'tool-call' });
      for (const file of ['runs/private/run.json', 'runs/private/subtask.a.json', 'runs/private/events.a.jsonl'])
        expect(await mode(file), file).toBe(0o600);
      await store.createRun(sampleRun('private'));
      expect(await mode('runs/private')).toBe(0o700);
    } finally {
      process.umask(previousUmask);
    }
  });

  it('refuses ids that would leave the store directory', async () => {
    const store = new FileCoordStore(await tempDir());
    await expect(store.getRun('../etc')).rejects.toMatchObject({ code: 'bad-id' });
  });
});
