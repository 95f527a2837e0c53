import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { withFileLock } from '../../src/adapters/file-lock.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { PreparationGitCli } from '../../src/adapters/workspace/preparation-git.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';
import { storeReporter } from '../../src/agent/reporter.js';
import { BuiltinAgentBackend } from '../../src/agent/builtin/builtin-backend.js';
import { runSubtask } from '../../src/agent/run-subtask.js';
import { parseRepoConfig, type RepoConfig } from '../../src/config/repo-config.js';
import type { Subtask } from '../../src/domain/plan.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { WorktreePreparer } from '../../src/adapters/environment/prepare-worktree.js';
import { validateIn } from '../../src/orchestrate/publish.js';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../src/ports/command-runner.js';
import type { Worktree } from '../../src/ports/workspace.js';
import type { Script, ScriptedReply } from '../../src/scripted-model/types.js';
import { git, npmFixtureRepository } from '../fixtures/npm-fixture.js';
import { call, finish } from './agent-replies.js';
import { scriptedLlm } from './scripted-llm.js';
import { tempDir } from './temp-dir.js';

/**
 * The one workspace of a test file: the harness makes its worktrees, and tests wait on its
 * background tidies (`settled()`), so both must be the same instance. Each test file gets its own.
 */
export const workspace = new GitWorkspace();
/** The registry token in the harness user's ~/.npmrc, which nothing the agent sees may contain. */
export const TOKEN = 'npm_fakeRegistryToken0123456789';

/** Passes commands through, counting them and the private HOMEs handed out. */
export class CountingRunner implements CommandRunner {
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

let template: ReturnType<typeof npmFixtureRepository> | undefined;
afterAll(async () => {
  if (template) await rm(dirname((await template).repo), { recursive: true, force: true });
});

/** One packed fixture per test file (npm pack and a lockfile take seconds); each test copies it. */
export function npmTemplate(): ReturnType<typeof npmFixtureRepository> {
  template ??= mkdtemp(join(tmpdir(), 'fanout-npm-fixture-')).then((dir) => npmFixtureRepository(dir));
  return template;
}

/** An npm repository (fixture-dep from a local tarball), a user home with a registry token, and a preparer factory. */
export async function environmentHarness(
  options: { config?: string; runner?: CommandRunner; extraFiles?: Record<string, string> } = {},
) {
  const root = await tempDir('fanout-environment-');
  const repo = join(root, 'repo');
  await cp((await npmTemplate()).repo, repo, { recursive: true, verbatimSymlinks: true });
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

const SUBTASK: Subtask = {
  id: 'doc',
  title: 'Document the app',
  instructions: 'Write NOTES.md.',
  writeScope: ['NOTES.md'],
  readScope: [],
  dependsOn: [],
};

/** One subtask through runSubtask, validated in its worktree the way the pipeline does (validateIn). */
export async function runOneSubtask(
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
    backend: new BuiltinAgentBackend(llm, h.runner),
    workspace,
    runner: h.runner,
    repoDir: h.repo,
    runId: 'r',
    baseCommit: h.base,
    subtask: SUBTASK,
    protectedPaths: protectedPaths(h.config.protectedPaths),
    worktreeRoot: join(h.root, 'agent-worktrees'),
    limits: { ...DEFAULT_LIMITS, stallMs: 10_000 },
    reporterFor: (attempt) => storeReporter(store, 'r', SUBTASK.id, `${SUBTASK.id}-${attempt}`),
    ...(prepare ? { prepareWorktree: prepare } : {}),
    keepWorktree: true,
  });
  if (outcome.kind === 'succeeded' && outcome.held) {
    try {
      validations.push(await validateIn({ runner: h.runner }, outcome.held.worktree, h.config));
    } finally {
      await outcome.held.release();
    }
  }
  // As a run ends: the worktree it released is tidy and back in the pool.
  await workspace.settled();
  return { outcome, validations, server };
}

export const WRITE_NOTES: ScriptedReply[] = [
  call('write_file', { path: 'NOTES.md', content: 'notes\n' }),
  finish('Wrote NOTES.md.'),
];
