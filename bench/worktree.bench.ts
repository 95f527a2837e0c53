// Worktree create + remove through Fanout's Workspace adapter versus raw `git worktree add/remove`,
// on a 10,000-file repository. Fanout adds hardening (a config read per git call) and a prune.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitWorkspace } from '../src/adapters/workspace/git-workspace.js';
import { git, largeRepository } from './fixtures.js';
import { median, ms } from './stats.js';

const RUNS = 7;
const root = await mkdtemp(join(tmpdir(), 'fanout-bench-wt-'));
const repo = join(root, 'repo');
await largeRepository(repo, 10_000);
const workspace = new GitWorkspace();
const base = await workspace.resolveCommit(repo, 'HEAD');

async function compare(label: string, parent: string): Promise<void> {
  const raw: number[] = [];
  const fanout: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    // Alternate the order so page-cache warmth favours neither side.
    for (const kind of run % 2 === 0 ? ['raw', 'fanout'] : ['fanout', 'raw']) {
      const path = join(parent, `${kind}-${run}`);
      const started = performance.now();
      if (kind === 'raw') {
        await git(repo, 'worktree', 'add', '--quiet', '-B', `raw-${label}-${run}`, path, base);
        await git(repo, 'worktree', 'remove', '--force', path);
        raw.push(performance.now() - started);
      } else {
        const worktree = await workspace.createWorktree({
          repoDir: repo,
          path,
          branch: `fanout/bench/${label}-${run}`,
          baseCommit: base,
        });
        await workspace.removeWorktree(worktree);
        fanout.push(performance.now() - started);
      }
    }
  }
  console.log(`worktree create+remove on 10,000 files (${label}), ${RUNS} runs each`);
  console.log(`  raw git worktree add/remove: median ${ms(median(raw))}`);
  console.log(`  Fanout Workspace adapter:    median ${ms(median(fanout))}`);
  console.log(`  ratio Fanout/raw:            ${(median(fanout) / median(raw)).toFixed(2)}`);
}

await compare('disk', join(root, 'worktrees'));
// This machine's disk makes file creation slow (~0.2 ms a file); tmpfs shows git's own cost.
if (existsSync('/dev/shm')) {
  const shm = await mkdtemp('/dev/shm/fanout-bench-');
  await compare('tmpfs', shm);
  await rm(shm, { recursive: true, force: true });
}
await rm(root, { recursive: true, force: true });
