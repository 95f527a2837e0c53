import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { RedisCoordStore } from '../../src/adapters/coord/redis-store.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { redactingStore } from '../../src/adapters/coord/redacting-store.js';
import { main } from '../../src/cli/main.js';
import { loadEnv } from '../../src/config/env.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { createStore } from '../../src/main.js';
import { captureOutput } from '../support/capture-output.js';
import { SecretRedactor } from '../../src/domain/redactor.js';
import { tempDir } from '../support/temp-dir.js';
import { coordStoreContract, sampleCommand, sampleRun } from './coord-store.contract.js';

const run = promisify(execFile);

coordStoreContract('memory (test double)', async () => new MemoryCoordStore());
coordStoreContract('files', async () => new FileCoordStore(await tempDir('fanout-store-')));
describeWithRedis('Redis (real server)', () => {
  const opened: RedisCoordStore[] = [];
  afterAll(async () => {
    // Each test closes its store; this only covers a test that failed before it could.
    await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
  });
  coordStoreContract('redis', async () => {
    const store = new RedisCoordStore(TEST_REDIS_URL, testPrefix());
    opened.push(store);
    return store;
  });

  it('is what REDIS_URL selects: `fanout status` reads the runs from Redis, under FANOUT_REDIS_PREFIX', async () => {
    const prefix = testPrefix();
    const stateDir = await tempDir('fanout-redis-state-');
    const env = loadEnv({ REDIS_URL: TEST_REDIS_URL, FANOUT_REDIS_PREFIX: prefix, FANOUT_STATE_DIR: stateDir });
    const store = createStore(env);
    await store.createRun({
      id: 'in-redis',
      repo: '/r',
      origin: { kind: 'local', path: '/r' },
      task: 't',
      baseBranch: 'main',
      baseCommit: 'c'.repeat(40),
      state: 'succeeded',
      config: parseRepoConfig(null),
      notes: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    await store.close();
    for (const [name, value] of Object.entries({
      REDIS_URL: TEST_REDIS_URL,
      FANOUT_REDIS_PREFIX: prefix,
      FANOUT_STATE_DIR: stateDir,
    }))
      vi.stubEnv(name, value);
    try {
      const output = captureOutput();
      expect(await main(['status', '--json'], output)).toBe(0);
      expect(JSON.parse(output.stdout()).runs).toEqual([
        expect.objectContaining({ runId: 'in-redis', state: 'succeeded' }),
      ]);
      expect(await readdir(stateDir)).toEqual([]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('wakes watchers in other processes by pub/sub, and loses no field when two of them update at once', async () => {
    const prefix = testPrefix();
    const [a, b] = [new RedisCoordStore(TEST_REDIS_URL, prefix), new RedisCoordStore(TEST_REDIS_URL, prefix)];
    opened.push(a, b);
    await a.createRun({ ...sampleRun('shared'), state: 'running' });
    await a.putSubtask({
      runId: 'shared',
      subtaskId: 's',
      state: 'running',
      attempt: 1,
      step: 0,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
    const seen: string[] = [];
    b.watch('shared', (change) => seen.push(change.kind));
    // The subscription is made in the background: keep poking until the other side hears.
    await vi.waitFor(
      async () => {
        await a.updateRun('shared', { notes: ['poke'] });
        expect(seen).toContain('run');
      },
      { timeout: 5_000 },
    );
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        (n % 2 === 0 ? a : b).updateSubtask('shared', 's', n % 2 === 0 ? { step: n } : { lastTool: `tool-${n}` }),
      ),
    );
    await Promise.all([
      a.updateSubtask('shared', 's', { summary: 'from a' }),
      b.updateSubtask('shared', 's', { branch: 'from-b' }),
    ]);
    expect(await a.getSubtask('shared', 's')).toMatchObject({ summary: 'from a', branch: 'from-b' });
    await Promise.all([a.close(), b.close()]);
  });
});
coordStoreContract('redacting, over files', async () =>
  redactingStore(new FileCoordStore(await tempDir('fanout-store-')), new SecretRedactor(['contract-secret-value'])),
);

describe('FileCoordStore commands on disk', () => {
  it('keeps commands private (0600) and readable by a later process', async () => {
    const root = await tempDir('fanout-store-');
    await new FileCoordStore(root).recordCommand(sampleCommand('d-1', 7));
    expect((await stat(join(root, 'commands', 'd-1.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'commands', 'claims', 'comment-codertocat', 'hello-world', '7'))).mode & 0o777).toBe(
      0o600,
    );
    expect((await stat(join(root, 'commands'))).mode & 0o777).toBe(0o700);
    const later = new FileCoordStore(root);
    expect((await later.getCommand('d-1'))?.commentId).toBe(7);
    expect(await later.recordCommand(sampleCommand('d-2', 7))).toBe(false);
  });

  it('stores exactly one command per comment when 4 processes receive the same deliveries', async () => {
    const root = await tempDir('fanout-store-');
    const store = modulePath('../../src/adapters/coord/file-store.ts');
    const sample = sampleCommand('template', 1);
    // Each process records comments 1..5 twice: once under a delivery id shared by every process
    // (a redelivery racing itself) and once under a delivery id of its own (a second delivery).
    const script = `
      const { FileCoordStore } = await import(${JSON.stringify(store)});
      const sample = ${JSON.stringify(sample)};
      const s = new FileCoordStore(process.argv[1]);
      const results = await Promise.all([1, 2, 3, 4, 5].flatMap((c) => [
        s.recordCommand({ ...sample, id: 'shared-' + c, commentId: c }),
        s.recordCommand({ ...sample, id: 'own-' + process.argv[2] + '-' + c, commentId: c }),
      ]));
      process.stdout.write(String(results.filter(Boolean).length));`;
    const outputs = await Promise.all(
      [0, 1, 2, 3].map((n) =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root, String(n)]),
      ),
    );
    expect(outputs.reduce((sum, output) => sum + Number(output.stdout), 0)).toBe(5);
    const stored = await new FileCoordStore(root).listCommands();
    expect(stored.map((command) => command.commentId).sort()).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);

  it('completes a command whose claims were made by a process that died before storing it', async () => {
    const root = await tempDir('fanout-store-');
    const command = sampleCommand('d-crashed', 9);
    const claims = join(root, 'commands', 'claims');
    await mkdir(join(claims, 'comment-codertocat', 'hello-world'), { recursive: true });
    await writeFile(join(claims, 'delivery-d-crashed'), JSON.stringify(command));
    await writeFile(join(claims, 'comment-codertocat', 'hello-world', '9'), JSON.stringify(command));
    const store = new FileCoordStore(root);

    expect(await store.recordCommand(sampleCommand('d-other', 9))).toBe(false);
    expect(await store.recordCommand(command)).toBe(true);
    expect(await store.recordCommand(command)).toBe(false);
    expect((await store.listCommands()).map((stored) => stored.id)).toEqual(['d-crashed']);
  });

  it('refuses ids and names that are not safe file names', async () => {
    const store = new FileCoordStore(await tempDir('fanout-store-'));
    await expect(store.recordCommand(sampleCommand('../escape', 1))).rejects.toMatchObject({ code: 'bad-id' });
    const dotted = sampleCommand('d-1', 1);
    dotted.target = { ...dotted.target, repo: '..' };
    await expect(store.recordCommand(dotted)).rejects.toMatchObject({ code: 'bad-id' });
    await expect(store.getCommand('../escape')).rejects.toMatchObject({ code: 'bad-id' });
  });
});

describe('a store that is down fails its ping (the health check)', () => {
  it('files: the state directory is not a directory any more', async () => {
    const root = join(await tempDir('fanout-store-'), 'state');
    const store = new FileCoordStore(root);
    await store.createRun(sampleRun('r'));
    await rm(root, { recursive: true });
    await writeFile(root, 'not a directory\n');

    await expect(store.ping()).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
  });

  it('Redis: nothing answers at the address', async () => {
    const store = new RedisCoordStore('redis://127.0.0.1:1', testPrefix());
    try {
      await expect(store.ping()).rejects.toThrow();
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});

describe('redactingStore commands', () => {
  it('stores a secret in a command as [redacted] and keeps its target and ids', async () => {
    const root = await tempDir('fanout-store-');
    const secret = 'contract-secret-value';
    const store = redactingStore(new FileCoordStore(root), new SecretRedactor([secret]));
    await store.recordCommand(
      sampleCommand('d-1', 1, { command: { kind: 'orchestrate', task: `deploy with ${secret}` } }),
    );
    await store.updateCommand('d-1', { state: 'failed', outcome: `refused: ${secret}` });

    const disk = await readFile(join(root, 'commands', 'd-1.json'), 'utf8');
    expect(disk).not.toContain(secret);
    expect(await store.getCommand('d-1')).toMatchObject({
      id: 'd-1',
      commentId: 1,
      target: { owner: 'Codertocat', repo: 'Hello-World' },
      command: { task: 'deploy with [redacted]' },
      outcome: 'refused: [redacted]',
    });
  });
});

function modulePath(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}
