import { execFile } from 'node:child_process';
import { cp, lstat, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { withFileLock } from '../../src/adapters/file-lock.js';
import { PreparationGitCli } from '../../src/adapters/workspace/preparation-git.js';
import { readEntry, recordChecked } from '../../src/adapters/environment/environment-cache.js';
import { EnvironmentPreparers } from '../../src/adapters/environment/environment-preparers.js';
import { git } from '../fixtures/npm-fixture.js';
import {
  CountingRunner,
  environmentHarness,
  npmTemplate,
  runOneSubtask,
  workspace,
  WRITE_NOTES,
} from '../support/environment-harness.js';
import { hostService } from '../support/host-services.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedBrain } from '../support/scripted-brain.js';

const execFileAsync = promisify(execFile);

describe('prepared environments: install', () => {
  it('a repository whose tests need an installed dependency passes validation with no setup: and no install in validate:', async () => {
    const h = await environmentHarness({ config: 'validate:\n  - npm test\n' });
    const prepared = await runOneSubtask(h, WRITE_NOTES, (worktree) => h.preparer().prepare(worktree));
    expect(prepared.outcome.kind).toBe('succeeded');
    expect(prepared.validations[0]?.passed).toBe(true);
    expect(prepared.validations[0]?.commands[0]?.outputTail).toContain('fixture-test ran: 42, 300 parts');
    expect(h.runner.count('npm ci')).toBe(1);
    // Without preparation, the same subtask's validation fails the way the issue saw it.
    const bare = await runOneSubtask(h, WRITE_NOTES);
    expect(bare.validations[0]?.passed).toBe(false);
    expect(bare.validations[0]?.commands[0]?.outputTail).toMatch(/fixture-test: (command )?not found/);
  });

  it('a failing setup fails the subtask as setup-failed with its output, with no second attempt and no model call', async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - echo "resolving @acme/private"; echo "E401 Unable to authenticate" >&2; exit 3\n',
    });
    const { outcome, server } = await runOneSubtask(h, WRITE_NOTES, (worktree) => h.preparer().prepare(worktree));
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'setup-failed', attempts: 1 });
    expect(outcome.kind === 'failed' && outcome.message).toContain('exited with 3');
    expect(outcome.kind === 'failed' && outcome.message).toContain('E401 Unable to authenticate');
    expect(outcome.kind === 'failed' && outcome.message).toContain('not the agent');
    expect(h.runner.count('E401')).toBe(1);
    expect(server.requests).toHaveLength(0);
  });

  it("the second worktree with the same lockfile reuses the first one's install: no second npm ci, files hard-linked", async () => {
    const h = await environmentHarness();
    const first = await h.worktree();
    const second = await h.worktree();
    const built = await h.preparer().prepare(first);
    const reused = await h.preparer().prepare(second);
    expect(built).toMatchObject({ ok: true, environment: 'built' });
    expect(reused).toMatchObject({ ok: true, environment: 'reused' });
    expect(h.runner.count('npm ci')).toBe(1);
    const inFirst = await stat(join(first.path, 'node_modules/fixture-dep/lib/part-7.js'));
    const inSecond = await stat(join(second.path, 'node_modules/fixture-dep/lib/part-7.js'));
    expect(inSecond.ino).toBe(inFirst.ino);
    // The bin link still works, and the worktree is clean for the agent's commit.
    const test = await h.runner.run({ argv: ['npm', 'test'], cwd: second.path, timeoutMs: 60_000, outputLimit: 4_000 });
    expect(test.stdout).toContain('fixture-test ran: 42, 300 parts');
    expect(await git(second.path, 'status', '--porcelain')).toBe('');
    // Removing worktrees leaves the cache.
    await workspace.removeWorktree(first);
    await workspace.removeWorktree(second);
    expect(await readdir(h.cacheDir)).toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{40}$/)]));
  });

  it('a warm pool slot keeps the environment its last user left untouched: nothing is linked again', async () => {
    const h = await environmentHarness();
    const poolRoot = join(h.root, 'pool');
    const acquire = () =>
      workspace.acquireWorktree({ repoDir: h.repo, poolRoot, branch: null, commit: h.base, keepIgnored: true });
    const first = await acquire();
    expect(await h.preparer().prepare(first)).toMatchObject({ ok: true, environment: 'built' });
    const directory = (await stat(join(first.path, 'node_modules/fixture-dep'))).ino;
    await writeFile(join(first.path, 'scratch.log'), 'left by the last user\n');
    await workspace.releaseWorktree(first);

    const again = await acquire();
    expect(again.path).toBe(first.path);
    expect(await h.preparer().prepare(again)).toMatchObject({ ok: true, environment: 'reused' });
    // The same directory (not made again), the same cached inodes, and the rest of the leftovers gone.
    expect((await stat(join(again.path, 'node_modules/fixture-dep'))).ino).toBe(directory);
    const entry = (await readEntry(
      h.cacheDir,
      (await readdir(h.cacheDir)).find((name) => /^[0-9a-f]{40}$/.test(name))!,
    ))!;
    const file = entry.manifest.items.find((item) => item.kind === 'file')!;
    expect(String((await stat(join(again.path, file.path), { bigint: true })).ino)).toBe((file as { ino: string }).ino);
    expect(await lstat(join(again.path, 'scratch.log')).catch(() => null)).toBeNull();
    expect(h.runner.count('npm ci')).toBe(1);
    const test = await h.runner.run({ argv: ['npm', 'test'], cwd: again.path, timeoutMs: 60_000, outputLimit: 4_000 });
    expect(test.stdout).toContain('fixture-test ran: 42, 300 parts');
    await workspace.releaseWorktree(again);
    await workspace.settled();
  });

  it('a placement the last user changed is not kept: an added file, a replaced link and a removed file are all put right', async () => {
    const h = await environmentHarness();
    const poolRoot = join(h.root, 'pool');
    const acquire = () =>
      workspace.acquireWorktree({ repoDir: h.repo, poolRoot, branch: null, commit: h.base, keepIgnored: true });
    for (const tamper of [
      (path: string) => writeFile(join(path, 'node_modules/fixture-dep/planted.js'), 'process.exit(1);\n'),
      async (path: string) => {
        await rm(join(path, 'node_modules/fixture-dep/lib/part-3.js'));
        await writeFile(join(path, 'node_modules/fixture-dep/lib/part-3.js'), 'process.exit(1);\n');
      },
      (path: string) => rm(join(path, 'node_modules/fixture-dep/lib/part-5.js')),
    ]) {
      const slot = await acquire();
      expect(await h.preparer().prepare(slot)).toMatchObject({ ok: true });
      await tamper(slot.path);
      await workspace.releaseWorktree(slot);
      const next = await acquire();
      expect(next.path).toBe(slot.path);
      expect(await h.preparer().prepare(next)).toMatchObject({ ok: true, environment: 'reused' });
      expect(await lstat(join(next.path, 'node_modules/fixture-dep/planted.js')).catch(() => null)).toBeNull();
      const test = await h.runner.run({ argv: ['npm', 'test'], cwd: next.path, timeoutMs: 60_000, outputLimit: 4_000 });
      expect(test.stdout).toContain('fixture-test ran: 42, 300 parts');
      await workspace.releaseWorktree(next);
    }
    await workspace.settled();
    expect(h.runner.count('npm ci')).toBe(1);
  });

  it('concurrent worktrees of one lockfile install once: the others wait and reuse', async () => {
    const h = await environmentHarness();
    const worktrees = await Promise.all([h.worktree(), h.worktree(), h.worktree()]);
    const results = await Promise.all(worktrees.map((worktree) => h.preparer().prepare(worktree)));
    expect(results.map((result) => result.ok && result.environment).sort()).toEqual(['built', 'reused', 'reused']);
    expect(h.runner.count('npm ci')).toBe(1);
    for (const worktree of worktrees)
      expect((await stat(join(worktree.path, 'node_modules/.bin/fixture-test'))).isFile()).toBe(true);
  });

  it('a cached file rewritten in place through a worktree is detected, even with its size and mtime restored, and the cache is rebuilt', async () => {
    const h = await environmentHarness();
    const first = await h.worktree();
    await h.preparer().prepare(first);
    const target = join(first.path, 'node_modules/fixture-dep/index.js');
    const original = await readFile(target, 'utf8');
    const before = await stat(target, { bigint: true });
    // Same length, same mtime (to the nanosecond, from a reference file): only the content, and
    // the ctime no process can set, change.
    await execFileAsync('touch', ['-r', target, join(h.root, 'reference')]);
    await writeFile(target, original.replace('answer: 42', 'answer: 66'));
    await execFileAsync('touch', ['-m', '-r', join(h.root, 'reference'), target]);
    const after = await stat(target, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    const second = await h.worktree();
    const rebuilt = await h.preparer().prepare(second);
    expect(rebuilt).toMatchObject({ ok: true, environment: 'built' });
    expect(rebuilt.ok && rebuilt.notes).toEqual([
      'the cached environment was set up again: node_modules/fixture-dep/index.js was rewritten in place',
    ]);
    expect(h.runner.count('npm ci')).toBe(2);
    expect(await readFile(join(second.path, 'node_modules/fixture-dep/index.js'), 'utf8')).toBe(original);
    // The rebuilt entry serves the next worktree, untouched.
    const third = await h.worktree();
    expect(await h.preparer().prepare(third)).toMatchObject({ ok: true, environment: 'reused' });
    expect(await readFile(join(third.path, 'node_modules/fixture-dep/index.js'), 'utf8')).toBe(original);
  });

  it('a thorough preparation (the merge worktree) hashes every file, even one whose tampering a reuse recorded', async () => {
    const h = await environmentHarness();
    const first = await h.worktree();
    await h.preparer().prepare(first);
    const target = join(first.path, 'node_modules/fixture-dep/index.js');
    const original = await readFile(target, 'utf8');
    await execFileAsync('touch', ['-r', target, join(h.root, 'reference')]);
    await writeFile(target, original.replace('answer: 42', 'answer: 66'));
    await execFileAsync('touch', ['-m', '-r', join(h.root, 'reference'), target]);
    // As if the write had landed between another reuse's linking and its record of the ctimes.
    const key = (await readdir(h.cacheDir)).find((name) => /^[0-9a-f]{40}$/.test(name))!;
    await recordChecked((await readEntry(h.cacheDir, key))!);
    expect(await h.preparer().prepare(await h.worktree())).toMatchObject({ environment: 'reused' });
    const merge = await h.worktree();
    expect(await h.preparer().prepare(merge, { thorough: true })).toMatchObject({
      environment: 'built',
      notes: ['the cached environment was set up again: node_modules/fixture-dep/index.js was rewritten in place'],
    });
    expect(await readFile(join(merge.path, 'node_modules/fixture-dep/index.js'), 'utf8')).toBe(original);
  });

  it('a cached file appended to, or deleted from the cache, is caught too', async () => {
    const h = await environmentHarness();
    const first = await h.worktree();
    await h.preparer().prepare(first);
    await writeFile(join(first.path, 'node_modules/fixture-dep/lib/part-1.js'), 'process.exit(1);\n', { flag: 'a' });
    expect(await h.preparer().prepare(await h.worktree())).toMatchObject({
      environment: 'built',
      notes: ['the cached environment was set up again: node_modules/fixture-dep/lib/part-1.js was changed'],
    });
    const entry = (await readdir(h.cacheDir)).find((name) => /^[0-9a-f]{40}$/.test(name))!;
    await rm(join(h.cacheDir, entry, 'tree/node_modules/fixture-dep/lib/part-2.js'));
    expect(await h.preparer().prepare(await h.worktree())).toMatchObject({
      environment: 'built',
      notes: ['the cached environment was set up again: node_modules/fixture-dep/lib/part-2.js is missing'],
    });
    expect(h.runner.count('npm ci')).toBe(3);
  });
});

describe('prepared environments: the real pipeline', () => {
  it('fanout run: tests that need an installed dependency go green and merge, with no setup: and no install in validate:', async () => {
    const brain = scriptedBrain({
      plan: [{ id: 'notes', title: 'Write notes', writeScope: ['NOTES.md'] }],
      agents: { 'Write notes': WRITE_NOTES },
    });
    const h = await pipelineHarness(brain.reply, {
      files: { 'README.md': '# app\n' },
      config: 'validate:\n  - npm test\n',
    });
    const template = npmTemplate();
    for (const path of ['package.json', 'package-lock.json', '.npmrc', '.gitignore', 'vendor'])
      await cp(join((await template).repo, path), join(h.repo, path), { recursive: true });
    await git(h.repo, 'add', '--all');
    await git(h.repo, 'commit', '--quiet', '-m', 'an npm project');
    const base = await git(h.repo, 'rev-parse', 'HEAD');
    const runner = new CountingRunner(h.deps.runner);
    h.deps.runner = runner;
    const preparers = new EnvironmentPreparers({
      runner,
      workspace: h.deps.workspace,
      git: new PreparationGitCli(),
      cacheDir: join(h.stateDir, 'environments'),
      userHome: h.root,
      env: {},
      withLock: withFileLock,
    });
    h.deps.prepareWorktree = (worktree, config) => preparers.prepare(worktree, config, { trustedCommit: base });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(report.subtasks.map((subtask) => [subtask.id, subtask.check, Boolean(subtask.merged)])).toEqual([
      ['notes', 'passed', true],
    ]);
    // One install for the run, however many worktrees it prepared.
    expect(runner.count('npm ci')).toBe(1);
  });
});

describeWithSandbox('prepared environments: the network setup gets', 'bwrap', () => {
  describeWithSandbox('with a network of its own', 'userNetwork', () => {
    it("setup (always networked) cannot reach a service on the host's loopback, such as the App's Redis; one networkAllow names it can", async () => {
      const [redis, allowed] = await Promise.all([
        hostService('127.0.0.1', 'redis-answered'),
        hostService('127.0.0.1', 'allowed-answered'),
      ]);
      try {
        const probe = [redis.port, allowed.port]
          .map(
            (port) =>
              `if out=$( { exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3; } 2>&1 ); then echo "${port} answered: $out"; else echo "${port} failed: \${out##*: }"; fi`,
          )
          .join('; ');
        const h = await environmentHarness({
          runner: new BwrapCommandRunner(new ProcessCommandRunner(), {
            hiddenPaths: [],
            canDisableUserns: sandboxSupport().bwrapDisablesUserns,
          }),
          // Failing on purpose: a failed setup's message carries its output.
          config: `setup: ${JSON.stringify([`${probe}; exit 1`])}\nnetworkAllow: ["127.0.0.1:${allowed.port}"]\n`,
        });
        const result = await h.preparer().prepare(await h.worktree());
        expect(result.ok).toBe(false);
        const message = result.ok ? '' : result.message;
        expect(message).toContain(`${redis.port} failed: Connection refused`);
        expect(message).not.toContain('redis-answered');
        expect(message).toContain(`${allowed.port} answered: allowed-answered`);
      } finally {
        redis.close();
        allowed.close();
      }
    });
  });
});
