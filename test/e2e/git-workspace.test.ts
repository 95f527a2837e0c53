import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { git, sampleRepo } from '../support/sample-repo.js';

describe('GitWorkspace worktrees', () => {
  it('lets several agents add and remove worktrees in one repository at once', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    // Each agent's cycle is what run-subtask does: add, work, remove.
    const agent = async (name: string) => {
      for (let cycle = 0; cycle < 6; cycle += 1) {
        const worktree = await workspace.createWorktree({
          repoDir: repo,
          path: join(root, 'wt', `${name}-${cycle}`),
          branch: `fanout/r/${name}`,
          baseCommit: base,
        });
        expect(existsSync(join(worktree.path, 'README.md'))).toBe(true);
        await workspace.removeWorktree(worktree);
      }
    };
    await Promise.all(['a', 'b', 'c', 'd'].map(agent));
    expect(
      (await git(repo, 'worktree', 'list', '--porcelain')).split('\n').filter((line) => line.startsWith('worktree ')),
    ).toHaveLength(1);
  });

  it('removes a worktree completely, leaving its branch and nothing for git to prune', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'x'),
      branch: 'fanout/r/x',
      baseCommit: base,
    });
    await writeFile(join(worktree.path, 'new.txt'), 'x\n');
    await workspace.removeWorktree(worktree);
    expect(existsSync(worktree.path)).toBe(false);
    expect(await git(repo, 'worktree', 'list', '--porcelain')).not.toContain(worktree.path);
    expect(await git(repo, 'worktree', 'prune', '--dry-run', '--verbose')).toBe('');
    expect(await git(repo, 'rev-parse', 'fanout/r/x')).toBe(base);
    // git's own remove and prune delete this folder once it is empty, and an add in another agent
    // at that moment fails (seen in CI); Fanout's removal must leave it.
    expect(existsSync(join(repo, '.git', 'worktrees'))).toBe(true);
    // The same path and branch can be used again at once (what a retry does).
    const again = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'x'),
      branch: 'fanout/r/x',
      baseCommit: base,
    });
    expect(existsSync(join(again.path, 'README.md'))).toBe(true);
  });

  it('never deletes a directory outside its worktree root when an agent rewrote its record (gitdir with .., or through a link)', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const precious = join(root, 'precious-project');
    await mkdir(join(precious, 'src'), { recursive: true });
    await writeFile(join(precious, 'src/keep.txt'), 'keep\n');
    const worktreeRoot = join(root, 'state', 'worktrees');
    await mkdir(join(worktreeRoot, 'run'), { recursive: true });
    await symlink(precious, join(worktreeRoot, 'run', 'link'));
    const dotdot = await workspace.createWorktree({
      repoDir: repo,
      path: join(worktreeRoot, 'run', 'a-1'),
      branch: 'fanout/run/a',
      baseCommit: base,
    });
    const linked = await workspace.createWorktree({
      repoDir: repo,
      path: join(worktreeRoot, 'run', 'b-1'),
      branch: 'fanout/run/b',
      baseCommit: base,
    });
    // What an agent can write in its own worktree's git directory when nothing stops it.
    await writeFile(join(dotdot.gitDir, 'gitdir'), `${worktreeRoot}/../../precious-project/.git\n`);
    await writeFile(join(linked.gitDir, 'gitdir'), `${worktreeRoot}/run/link/src/.git\n`);

    const removed = await workspace.pruneStale(repo, worktreeRoot);

    expect(removed).toEqual([]);
    expect(await readFile(join(precious, 'src/keep.txt'), 'utf8')).toBe('keep\n');
  });
});
