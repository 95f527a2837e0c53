import { execFile } from 'node:child_process';
import { cp, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { withFileLock } from '../../src/adapters/file-lock.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { PreparationGitCli } from '../../src/adapters/workspace/preparation-git.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';
import { storeReporter } from '../../src/agent/reporter.js';
import { runSubtask } from '../../src/agent/run-subtask.js';
import { parseRepoConfig, type RepoConfig } from '../../src/config/repo-config.js';
import type { Subtask } from '../../src/domain/plan.js';
import { readEntry, recordChecked } from '../../src/adapters/environment/environment-cache.js';
import { EnvironmentPreparers } from '../../src/adapters/environment/environment-preparers.js';
import { WorktreePreparer } from '../../src/adapters/environment/prepare-worktree.js';
import { validateIn } from '../../src/orchestrate/publish.js';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../src/ports/command-runner.js';
import type { Worktree } from '../../src/ports/workspace.js';
import type { Script, ScriptedReply } from '../../src/scripted-model/types.js';
import { git, npmFixtureRepository } from '../fixtures/npm-fixture.js';
import { call, finish } from '../support/agent-replies.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';

const execFileAsync = promisify(execFile);
const workspace = new GitWorkspace();
const TOKEN = 'npm_fakeRegistryToken0123456789';

/** Passes commands through, counting them and the private HOMEs handed out. */
class CountingRunner implements CommandRunner {
  readonly requests: CommandRequest[] = [];
  readonly homes: string[] = [];
  constructor(private readonly inner: CommandRunner) {}

  get confinesProcesses(): boolean {
    return this.inner.confinesProcesses;
  }
  run(request: CommandRequest): Promise<CommandResult> {
    this.requests.push(request);
    return this.inner.run(request);
  }
  async privateHome(): Promise<PrivateHome> {
    const home = await this.inner.privateHome();
    this.homes.push(home.path);
    return home;
  }
  /** How many installs (or configured setup lines containing `marker`) ran. */
  count(marker: string): number {
    return this.requests.filter((request) => request.argv.join(' ').includes(marker)).length;
  }
}

/** An npm repository (fixture-dep from a local tarball), a user home with a registry token, and a preparer factory. */
async function environmentHarness(
  options: { config?: string; runner?: CommandRunner; extraFiles?: Record<string, string> } = {},
) {
  const root = await tempDir('fanout-environment-');
  // One packed fixture per file (npm pack and a lockfile take seconds); each test gets a copy.
  template ??= npmFixtureRepository(await mkdtemp(join(tmpdir(), 'fanout-npm-fixture-')));
  const repo = join(root, 'repo');
  await cp((await template).repo, repo, { recursive: true, verbatimSymlinks: true });
  if (options.extraFiles) {
    for (const [path, content] of Object.entries(options.extraFiles)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), content);
    }
    await git(repo, 'add', '--all');
    await git(repo, 'commit', '--quiet', '-m', 'extra files');
  }
  const userHome = join(root, 'home');
  await mkdir(userHome);
  await writeFile(join(userHome, '.npmrc'), `//127.0.0.1:9/:_authToken=${TOKEN}\n`);
  const base = await workspace.resolveCommit(repo, 'HEAD');
  const runner = new CountingRunner(options.runner ?? new ProcessCommandRunner());
  const config = parseRepoConfig(options.config ?? null);
  const cacheDir = join(root, 'state', 'environments');
  const preparer = (overrides: Partial<{ config: RepoConfig; trustedCommit: string }> = {}) =>
    new WorktreePreparer({
      runner,
      workspace,
      git: new PreparationGitCli(),
      repoDir: repo,
      config: overrides.config ?? config,
      trustedCommit: overrides.trustedCommit ?? base,
      cacheDir,
      userHome,
      env: {},
      withLock: withFileLock,
    });
  let made = 0;
  const worktree = async (commit = base): Promise<Worktree> => {
    made += 1;
    return workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'worktrees', `w-${made}`),
      branch: `fanout/r/w-${made}`,
      baseCommit: commit,
    });
  };
  return { root, repo, base, runner, config, cacheDir, userHome, preparer, worktree };
}

let template: ReturnType<typeof npmFixtureRepository> | undefined;
afterAll(async () => {
  if (template) await rm(dirname((await template).repo), { recursive: true, force: true });
});

const SUBTASK: Subtask = {
  id: 'doc',
  title: 'Document the app',
  instructions: 'Write NOTES.md.',
  writeScope: ['NOTES.md'],
  readScope: [],
  dependsOn: [],
};

/** One subtask through runSubtask, validated in its worktree the way the pipeline does (validateIn). */
async function runOneSubtask(
  h: Awaited<ReturnType<typeof environmentHarness>>,
  script: Script,
  prepare?: (worktree: Worktree) => Promise<{ ok: true } | { ok: false; message: string }>,
) {
  const { llm, server } = await scriptedLlm(script);
  const store = new MemoryCoordStore();
  await store.putSubtask({
    runId: 'r',
    subtaskId: SUBTASK.id,
    state: 'running',
    attempt: 1,
    step: 0,
    updatedAt: new Date().toISOString(),
  });
  const validations: Array<Awaited<ReturnType<typeof validateIn>>> = [];
  const outcome = await runSubtask({
    llm,
    workspace,
    runner: h.runner,
    repoDir: h.repo,
    runId: 'r',
    baseCommit: h.base,
    subtask: SUBTASK,
    worktreeRoot: join(h.root, 'agent-worktrees'),
    limits: { ...DEFAULT_LIMITS, stallMs: 10_000 },
    reporterFor: (attempt) => storeReporter(store, 'r', SUBTASK.id, `${SUBTASK.id}-${attempt}`),
    ...(prepare ? { prepareWorktree: prepare } : {}),
    afterCommit: async (worktree) => {
      validations.push(await validateIn({ runner: h.runner }, worktree, h.config));
    },
  });
  // As a run ends: the worktree it released is tidy and back in the pool.
  await workspace.settled();
  return { outcome, validations, server };
}

const WRITE_NOTES: ScriptedReply[] = [
  call('write_file', { path: 'NOTES.md', content: 'notes\n' }),
  finish('Wrote NOTES.md.'),
];

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
    template ??= npmFixtureRepository(await mkdtemp(join(tmpdir(), 'fanout-npm-fixture-')));
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

describe('prepared environments: what a worktree also needs', () => {
  it('copy: copies ignored files of the checkout (globs), never through a link, and the worktree stays clean', async () => {
    const h = await environmentHarness({
      config: 'setup: []\ncopy: [.env.test, "config/*.local"]\n',
      extraFiles: { 'config/app.json': '{}\n' },
    });
    await writeFile(join(h.repo, '.env.test'), 'DATABASE_URL=postgres://localhost/test\n');
    await writeFile(join(h.repo, 'config/db.local'), 'local settings\n');
    await writeFile(join(h.root, 'outside-secret'), 'ssh-canary\n');
    await symlink(join(h.root, 'outside-secret'), join(h.repo, 'config/key.local'));
    const worktree = await h.worktree();
    expect(await h.preparer().prepare(worktree)).toMatchObject({ ok: true, environment: 'none' });
    expect(await readFile(join(worktree.path, '.env.test'), 'utf8')).toBe('DATABASE_URL=postgres://localhost/test\n');
    expect(await readFile(join(worktree.path, 'config/db.local'), 'utf8')).toBe('local settings\n');
    expect(await lstat(join(worktree.path, 'config/key.local')).catch(() => null)).toBeNull();
    expect(await git(worktree.path, 'status', '--porcelain')).toBe('');
  });

  it("copy: refuses a file git does not ignore, which the agent's commit would carry", async () => {
    const h = await environmentHarness({ config: 'setup: []\ncopy: [private/notes.txt]\n' });
    // Ignored in the checkout by an untracked .gitignore, which the worktree does not have.
    await mkdir(join(h.repo, 'private'));
    await writeFile(join(h.repo, 'private/.gitignore'), '*\n');
    await writeFile(join(h.repo, 'private/notes.txt'), 'mine\n');
    const result = await h.preparer().prepare(await h.worktree());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(
      "copied files git does not ignore, so they would be committed with the agent's work: private/notes.txt",
    );
  });

  it('copied files reach setup, are copied fresh into reused worktrees, and a changed one sets up again', async () => {
    const h = await environmentHarness({ config: 'setup:\n  - cp .env.test .env.seen-by-setup\ncopy: [.env.test]\n' });
    await writeFile(join(h.repo, '.env.test'), 'one\n');
    const first = await h.worktree();
    expect(await h.preparer().prepare(first)).toMatchObject({ environment: 'built' });
    const second = await h.worktree();
    expect(await h.preparer().prepare(second)).toMatchObject({ environment: 'reused' });
    expect(await readFile(join(second.path, '.env.seen-by-setup'), 'utf8')).toBe('one\n');
    expect(await readFile(join(second.path, '.env.test'), 'utf8')).toBe('one\n');
    await writeFile(join(h.repo, '.env.test'), 'two\n');
    const third = await h.worktree();
    expect(await h.preparer().prepare(third)).toMatchObject({ environment: 'built' });
    expect(await readFile(join(third.path, '.env.seen-by-setup'), 'utf8')).toBe('two\n');
    expect(h.runner.count('cp .env.test')).toBe(2);
  });

  it("a commit holding agents' work reuses the base's environment when its inputs match, and otherwise sets up without credentials, network or caching", async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - if test -f ~/.npmrc; then echo yes; else echo no; fi > .env.registry-seen\n',
    });
    const base = await h.worktree();
    expect(await h.preparer().prepare(base)).toMatchObject({ environment: 'built' });
    expect(await readFile(join(base.path, '.env.registry-seen'), 'utf8')).toBe('yes\n');
    await writeFile(join(h.repo, 'README.md'), '# app, changed by an agent\n');
    await git(h.repo, 'commit', '--quiet', '-am', 'agent: readme');
    const sameInputs = await h.worktree(await git(h.repo, 'rev-parse', 'HEAD'));
    expect(await h.preparer().prepare(sameInputs)).toMatchObject({ environment: 'reused' });
    await writeFile(join(h.repo, 'requirements.txt'), 'requests==2.0\n');
    await git(h.repo, 'add', 'requirements.txt');
    await git(h.repo, 'commit', '--quiet', '-m', 'agent: a dependency');
    const changedInputs = await h.worktree(await git(h.repo, 'rev-parse', 'HEAD'));
    expect(await h.preparer().prepare(changedInputs)).toMatchObject({ environment: 'built-uncached' });
    expect(await readFile(join(changedInputs.path, '.env.registry-seen'), 'utf8')).toBe('no\n');
    const setups = h.runner.requests.filter((request) => request.argv.join(' ').includes('registry-seen'));
    expect(setups.map((request) => request.network)).toEqual([true, false]);
    expect((await readdir(h.cacheDir)).filter((name) => /^[0-9a-f]{40}$/.test(name))).toHaveLength(1);
  });

  it("initializes submodules from the checkout's module store, offline, without touching the shared config", async () => {
    const h = await environmentHarness({ config: 'setup: []\n' });
    const library = join(h.root, 'library');
    await mkdir(library);
    await writeFile(join(library, 'lib.txt'), 'from the submodule\n');
    await git(library, 'init', '--quiet', '--initial-branch=main');
    await git(library, 'add', '--all');
    await git(library, 'commit', '--quiet', '-m', 'library');
    await git(h.repo, 'submodule', '--quiet', 'add', library, 'vendor/library');
    await git(h.repo, 'commit', '--quiet', '-m', 'add a submodule');
    // The submodule's origin is gone: only the checkout's module store has it.
    await rm(library, { recursive: true, force: true });
    const sharedConfig = await readFile(join(h.repo, '.git/config'), 'utf8');
    const head = await git(h.repo, 'rev-parse', 'HEAD');
    const worktree = await h.worktree(head);
    expect(await h.preparer({ trustedCommit: head }).prepare(worktree)).toMatchObject({ ok: true, notes: [] });
    expect(await readFile(join(worktree.path, 'vendor/library/lib.txt'), 'utf8')).toBe('from the submodule\n');
    expect(await git(join(worktree.path, 'vendor/library'), 'rev-parse', 'HEAD')).toBe(
      await git(h.repo, 'rev-parse', 'HEAD:vendor/library'),
    );
    expect(await git(worktree.path, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(h.repo, '.git/config'), 'utf8')).toBe(sharedConfig);
    await workspace.removeWorktree(worktree);
    expect(await git(h.repo, 'worktree', 'list', '--porcelain')).not.toContain('worktrees/w-');
  });

  it('leaves a submodule the checkout never fetched empty, and says so', async () => {
    const h = await environmentHarness({ config: 'setup: []\n' });
    const library = join(h.root, 'library');
    await mkdir(library);
    await writeFile(join(library, 'lib.txt'), 'x\n');
    await git(library, 'init', '--quiet', '--initial-branch=main');
    await git(library, 'add', '--all');
    await git(library, 'commit', '--quiet', '-m', 'library');
    await git(h.repo, 'submodule', '--quiet', 'add', library, 'vendor/library');
    await git(h.repo, 'commit', '--quiet', '-m', 'add a submodule');
    await rm(join(h.repo, '.git/modules'), { recursive: true, force: true });
    const head = await git(h.repo, 'rev-parse', 'HEAD');
    const result = await h.preparer({ trustedCommit: head }).prepare(await h.worktree(head));
    expect(result.ok && result.notes[0]).toMatch(
      /^submodule vendor\/library left empty: the checkout has no copy of commit [0-9a-f]{12}/,
    );
  });
});

describe('prepared environments: registry credentials', () => {
  it("setup gets the user's registry configuration in a HOME of its own, deleted after it; a failure message shows no token", async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - grep -q _authToken ~/.npmrc && echo "registry config present"; cat ~/.npmrc; exit 1\n',
    });
    const worktree = await h.worktree();
    const result = await h.preparer().prepare(worktree);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('registry config present');
    expect(!result.ok && result.message).not.toContain(TOKEN);
    expect(!result.ok && result.message).toContain('[redacted]');
    expect(h.runner.homes).toHaveLength(1);
    expect(await stat(h.runner.homes[0]!).catch(() => null)).toBeNull();
  });
});

describe('prepared environments: registry credentials left behind', () => {
  it('a setup that leaves the token in what it writes fails, and neither the worktree nor the cache keeps it', async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - mkdir -p node_modules/.cache && cp ~/.npmrc node_modules/.cache/npmrc-copy\n',
    });
    const worktree = await h.worktree();
    const result = await h.preparer().prepare(worktree);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(
      'Setup left your registry credentials in node_modules/.cache/npmrc-copy',
    );
    expect(await lstat(join(worktree.path, 'node_modules')).catch(() => null)).toBeNull();
    expect((await readdir(h.cacheDir)).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  });
});

describeWithSandbox('prepared environments: registry credentials in the sandbox', 'bwrap', () => {
  it("an agent command finds the user's registry token nowhere: not in its HOME, /tmp, the worktree, or the user's home", async () => {
    const sandbox = new BwrapCommandRunner(new ProcessCommandRunner(), {
      hiddenPaths: [],
      toolPaths: [],
      canDisableUserns: sandboxSupport().bwrapDisablesUserns,
    });
    const h = await environmentHarness({
      runner: sandbox,
      config: 'setup:\n  - grep -q npm_fakeRegistryToken ~/.npmrc && echo yes > .env.setup-saw-token\n',
    });
    const probe = `cat ~/.npmrc; grep -rl npm_fakeRegistryToken "$HOME" /tmp . 2>/dev/null; ls -a ${h.userHome}; echo probe-done`;
    const { outcome, server } = await runOneSubtask(
      h,
      [call('run_command', { command: probe }), ...WRITE_NOTES],
      (worktree) => h.preparer().prepare(worktree),
    );
    expect(outcome.kind).toBe('succeeded');
    const toolOutputs = server.requests.flatMap((request) =>
      request.body.messages.filter((message) => message.role === 'tool').map((message) => message.content ?? ''),
    );
    expect(toolOutputs.join('\n')).toContain('probe-done');
    expect(toolOutputs.join('\n')).not.toContain(TOKEN);
    expect(toolOutputs.join('\n')).not.toContain('npm_fakeRegistryToken');
    // Setup did read it, in its own HOME, which is gone.
    expect(h.runner.homes.length).toBeGreaterThanOrEqual(2);
    expect(await stat(h.runner.homes[0]!).catch(() => null)).toBeNull();
  });
});
