import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { git, sampleRepo } from '../support/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

describe('GitWorkspace worktrees', () => {
  it("tidies a released pool worktree off the caller's path; the next user at that commit gets it exactly, on its branch, with no checkout", async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const poolRoot = join(root, 'pool');
    const acquire = (branch: string | null, commit = base) =>
      workspace.acquireWorktree({ repoDir: repo, poolRoot, branch, commit });
    const first = await acquire('fanout/r/one');
    await writeFile(join(first.path, 'README.md'), '# changed\n');
    await writeFile(join(first.path, 'left-behind.txt'), 'untracked\n');
    const committed = await workspace.commitChanges(first, {
      message: 'one',
      author: { name: 'F', email: 'f@f' },
      isAllowed: () => true,
    });
    expect(committed.kind).toBe('committed');
    await workspace.releaseWorktree(first);
    // Another user arriving while the slot is tidied waits for it rather than make a second worktree.
    const second = await acquire('fanout/r/two');
    expect(second.path).toBe(first.path);
    expect(await git(second.path, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await readFile(join(second.path, 'README.md'), 'utf8')).toBe('# r\n');
    expect(await git(second.path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/fanout/r/two');
    expect(await git(repo, 'rev-parse', 'fanout/r/two')).toBe(base);
    await workspace.releaseWorktree(second);
    await workspace.settled();

    // Tidy at the commit and untouched: handed over as it is (git did not rewrite its index).
    const index = (await stat(join(second.gitDir, 'index'), { bigint: true })).ino;
    const third = await acquire('fanout/r/three');
    expect((await stat(join(third.gitDir, 'index'), { bigint: true })).ino).toBe(index);
    expect(await git(third.path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/fanout/r/three');
    // Touched since its tidy (its index rewritten): reset properly, not trusted.
    await writeFile(join(third.path, 'README.md'), '# touched\n');
    await git(third.path, 'add', 'README.md');
    await workspace.releaseWorktree(third);
    await workspace.settled();
    await writeFile(join(third.path, 'README.md'), '# touched after the tidy\n');
    await git(third.path, 'add', 'README.md');
    const fourth = await acquire(null);
    expect(await git(fourth.path, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(await readFile(join(fourth.path, 'README.md'), 'utf8')).toBe('# r\n');
    // At another commit: moved there.
    await workspace.releaseWorktree(fourth);
    const other = committed.kind === 'committed' ? committed.commit : '';
    const fifth = await acquire('fanout/r/five', other);
    expect(await readFile(join(fifth.path, 'README.md'), 'utf8')).toBe('# changed\n');
    expect(await git(fifth.path, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    await workspace.releaseWorktree(fifth);
    await workspace.settled();
    expect(await git(repo, 'worktree', 'list', '--porcelain')).toContain(first.path);
  });

  it('says when a pool worktree holds no ignored file, so preparation need not look: never when a tidy kept them', async () => {
    const root = await tempDir('fanout-workspace-');
    const repo = join(root, 'repo');
    await createRepository(repo, { 'README.md': '# r\n', '.gitignore': 'build/\n' });
    const base = await git(repo, 'rev-parse', 'HEAD');
    const workspace = new GitWorkspace({ trustTidySlots: true });
    const poolRoot = join(root, 'pool');
    const acquire = (keepIgnored: boolean) =>
      workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: null, commit: base, keepIgnored });
    const fresh = await acquire(true);
    expect(fresh.withoutIgnoredFiles).toBe(true);
    await mkdir(join(fresh.path, 'build'));
    await writeFile(join(fresh.path, 'build', 'out.js'), 'built\n');
    await workspace.releaseWorktree(fresh);
    await workspace.settled();
    const kept = await acquire(true);
    expect(kept.withoutIgnoredFiles).toBeFalsy();
    expect(existsSync(join(kept.path, 'build', 'out.js'))).toBe(true);
    await workspace.releaseWorktree(kept);
    await workspace.settled();
    const cleaned = await acquire(false);
    expect(existsSync(join(cleaned.path, 'build', 'out.js'))).toBe(false);
    expect(cleaned.withoutIgnoredFiles).toBe(true);
    await workspace.releaseWorktree(cleaned);
    await workspace.settled();
  });

  it('cleans a slot moved to a commit that ignores less: a kept ignored file never reaches the next agent untracked', async () => {
    const root = await tempDir('fanout-workspace-');
    const repo = join(root, 'repo');
    await createRepository(repo, { 'README.md': '# r\n', '.gitignore': 'build/\n', 'src/a.txt': 'a\n' });
    const before = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'rm', '-q', '.gitignore');
    await git(repo, 'commit', '-qm', 'stop ignoring build/', '--author', 'a <a@a>');
    const after = await git(repo, 'rev-parse', 'HEAD');
    for (const trustTidySlots of [true, false]) {
      const workspace = new GitWorkspace({ trustTidySlots });
      const poolRoot = join(root, `pool-${trustTidySlots}`);
      // A run with environment preparation keeps ignored files in its slots.
      const first = await workspace.acquireWorktree({
        repoDir: repo,
        poolRoot,
        branch: null,
        commit: before,
        keepIgnored: true,
      });
      await mkdir(join(first.path, 'build'));
      await writeFile(join(first.path, 'build', 'leak.txt'), 'the first agent was here\n');
      await workspace.releaseWorktree(first);
      await workspace.settled();
      const next = await workspace.acquireWorktree({
        repoDir: repo,
        poolRoot,
        branch: 'fanout/r/next',
        commit: after,
        keepIgnored: true,
      });
      expect(next.path).toBe(first.path);
      expect(existsSync(join(next.path, 'build', 'leak.txt'))).toBe(false);
      await writeFile(join(next.path, 'src', 'a.txt'), 'next\n');
      const committed = await workspace.commitChanges(next, {
        message: 'n',
        author: { name: 'F', email: 'f@f' },
        isAllowed: () => true,
      });
      expect(committed.kind === 'committed' && committed.files).toEqual(['src/a.txt']);
      await workspace.releaseWorktree(next);
      await workspace.settled();
    }
  });

  it('readies pool worktrees in the background; claims meanwhile wait for them, and get them with no checkout', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const poolRoot = join(root, 'pool');
    workspace.warmPool({ repoDir: repo, poolRoot, commit: base, count: 2 });
    // Claimed at once, while the slots are still being made: no third worktree appears.
    const claims = await Promise.all(
      ['a', 'b'].map((name) =>
        workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: `fanout/r/${name}`, commit: base }),
      ),
    );
    expect(new Set(claims.map((worktree) => worktree.path)).size).toBe(2);
    for (const worktree of claims) {
      expect(await git(worktree.path, 'status', '--porcelain', '--untracked-files=all')).toBe('');
      await workspace.releaseWorktree(worktree);
    }
    await workspace.settled();
    const listed = (await git(repo, 'worktree', 'list', '--porcelain'))
      .split('\n')
      .filter((line) => line.startsWith('worktree '));
    expect(listed).toHaveLength(3);

    // Warmed at the next commit (as the next run starts): a claim there finds its index as the warming left it.
    await writeFile(join(repo, 'README.md'), '# next\n');
    await git(repo, 'commit', '-qam', 'next', '--author', 'a <a@a>');
    const next = await git(repo, 'rev-parse', 'HEAD');
    workspace.warmPool({ repoDir: repo, poolRoot, commit: next, count: 2 });
    await workspace.settled();
    const slotIndexes = await Promise.all(
      claims.map(async (worktree) => (await stat(join(worktree.gitDir, 'index'), { bigint: true })).ino),
    );
    const again = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/c', commit: next });
    expect(slotIndexes).toContain((await stat(join(again.gitDir, 'index'), { bigint: true })).ino);
    expect(await readFile(join(again.path, 'README.md'), 'utf8')).toBe('# next\n');
    expect(await git(again.path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/fanout/r/c');
    await workspace.releaseWorktree(again);
    await workspace.settled();
  });

  it('leaves alone a released slot whose lock another holder took over: no tidy, no mark, their lock kept', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const poolRoot = join(root, 'pool');
    const slot = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/a', commit: base });
    const theirs = `${process.pid} ${hostname()} someoneelse`;
    await writeFile(`${slot.path}.lock`, theirs);
    await writeFile(join(slot.path, 'their-work.txt'), 'in progress\n');
    await workspace.releaseWorktree(slot);
    await workspace.settled();
    expect(await readFile(`${slot.path}.lock`, 'utf8')).toBe(theirs);
    expect(await readFile(join(slot.path, 'their-work.txt'), 'utf8')).toBe('in progress\n');
    expect(existsSync(`${slot.path}.tidy`)).toBe(false);
  });
});
