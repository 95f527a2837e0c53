// Prepared environments with a large node_modules: how long the first worktree takes (setup runs
// and is cached) and how long each later worktree takes to be ready: a new pool slot (the cached
// environment checked and hard-linked in), and a reused slot (the placement its last user left is
// checked and kept). Goal: the Nth worktree in ≤ 2 s.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessCommandRunner } from '../src/adapters/command/process-runner.js';
import { EnvironmentPreparers } from '../src/adapters/environment/environment-preparers.js';
import { withFileLock } from '../src/adapters/file-lock.js';
import { GitWorkspace } from '../src/adapters/workspace/git-workspace.js';
import { PreparationGitCli } from '../src/adapters/workspace/preparation-git.js';
import { parseRepoConfig } from '../src/config/repo-config.js';
import type { Worktree } from '../src/ports/workspace.js';
import { git } from './fixtures.js';
import { median } from './stats.js';

/** A node_modules-like tree: `packages` packages of `filesEach` files averaging `bytesEach` bytes. */
async function fakeNodeModules(dir: string, packages: number, filesEach: number, bytesEach: number): Promise<void> {
  for (let p = 0; p < packages; p += 1) {
    const pkg = join(dir, `pkg-${p}`, 'lib');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(dir, `pkg-${p}`, 'package.json'), JSON.stringify({ name: `pkg-${p}`, version: '1.0.0' }));
    await Promise.all(
      Array.from({ length: filesEach }, (_, f) =>
        writeFile(join(pkg, `file-${f}.js`), `// ${p}/${f}\n`.padEnd(bytesEach * (0.5 + ((p + f) % 3) / 2), 'x')),
      ),
    );
  }
}

/** A small npm app whose node_modules is ignored, one commit. */
async function repository(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true }));
  await writeFile(join(dir, '.gitignore'), 'node_modules/\n');
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'index.js'), 'export const answer = 42;\n');
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'init');
}

const workspace = new GitWorkspace();
const sizes: Array<[string, number, number, number]> = [
  ['7,500 files, ~150 MB', 150, 50, 20_000],
  ['30,000 files, ~300 MB', 600, 50, 10_000],
];
console.log(
  'prepared environments: the Nth worktree of a repository with a large node_modules (setup copies it in; cached, then hard-linked)',
);
for (const [label, packages, filesEach, bytesEach] of sizes) {
  const root = await mkdtemp(join(tmpdir(), 'fanout-bench-env-'));
  const template = join(root, 'template-node_modules');
  await fakeNodeModules(template, packages, filesEach, bytesEach);
  const repo = join(root, 'repo');
  await repository(repo);
  const base = await workspace.resolveCommit(repo, 'HEAD');
  const config = parseRepoConfig(`setup:\n  - cp -r ${template} node_modules\n`);
  const preparers = new EnvironmentPreparers({
    runner: new ProcessCommandRunner(),
    workspace,
    git: new PreparationGitCli(),
    cacheDir: join(root, 'state', 'environments'),
    userHome: join(root, 'home'),
    env: {},
    withLock: withFileLock,
  });
  const poolRoot = join(root, 'state', 'worktrees', 'pool');

  /** Acquires a worktree from the pool and prepares it: the time until an agent could start. */
  const ready = async (index: number): Promise<{ ms: number; worktree: Worktree; environment: string }> => {
    const started = performance.now();
    const worktree = await workspace.acquireWorktree({
      repoDir: repo,
      poolRoot,
      branch: `fanout/bench/w-${index}`,
      commit: base,
      keepIgnored: true,
    });
    const result = await preparers.prepare(worktree, config, { trustedCommit: base });
    if (!result.ok) throw new Error(result.message);
    return { ms: performance.now() - started, worktree, environment: result.environment };
  };
  const first = await ready(0);
  // Later worktrees: a fresh pool slot while the first is busy, then slots handed back and reused.
  const second = await ready(1);
  await workspace.releaseWorktree(first.worktree);
  await workspace.releaseWorktree(second.worktree);
  const later: number[] = [];
  for (let index = 2; index < 7; index += 1) {
    const next = await ready(index);
    later.push(next.ms);
    if (next.environment !== 'reused') throw new Error(`worktree ${index} was ${next.environment}, not reused`);
    await workspace.releaseWorktree(next.worktree);
  }
  console.log(
    `  ${label}: first worktree ${(first.ms / 1000).toFixed(2)} s (setup ran, ${first.environment}); a new pool slot ${(second.ms / 1000).toFixed(2)} s (${second.environment}); reused slots median ${(median(later) / 1000).toFixed(2)} s (max ${(Math.max(...later) / 1000).toFixed(2)} s) => goal ≤ 2 s ${median(later) <= 2000 ? 'met' : 'NOT met'}`,
  );
  await rm(root, { recursive: true, force: true });
}
