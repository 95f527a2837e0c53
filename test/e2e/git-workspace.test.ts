import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();

async function sampleRepo() {
  const root = await tempDir('fanout-workspace-');
  const repo = join(root, 'repo');
  await createRepository(repo, { 'README.md': '# r\n' });
  return { root, repo, base: await git(repo, 'rev-parse', 'HEAD') };
}

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

  it('commits exactly the paths the file tools name, without walking the tree; a slot whose changes were all committed comes back clean', async () => {
    const root = await tempDir('fanout-workspace-');
    const repo = join(root, 'repo');
    await createRepository(repo, { 'README.md': '# r\n', 'old.txt': 'old\n' });
    const base = await git(repo, 'rev-parse', 'HEAD');
    const workspace = new GitWorkspace();
    const poolRoot = join(root, 'pool');
    const author = { name: 'F', email: 'f@f' };
    const first = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/a', commit: base });
    await writeFile(join(first.path, 'README.md'), '# changed\n');
    await mkdir(join(first.path, 'src'));
    await writeFile(join(first.path, 'src', 'new.txt'), 'new\n');
    await rm(join(first.path, 'old.txt'));
    // Written and removed again: named by the tools, gone from the worktree.
    await writeFile(join(first.path, 'gone.txt'), 'x\n');
    await rm(join(first.path, 'gone.txt'));
    // Not named: only a walk of the tree would find it, and the commit does not walk.
    await writeFile(join(first.path, 'unnamed.txt'), 'x\n');
    const known = await workspace.commitChanges(first, {
      message: 'a',
      author,
      isAllowed: () => true,
      knownPaths: ['README.md', 'src/new.txt', 'old.txt', 'gone.txt'],
    });
    expect(known.kind === 'committed' && known.files.sort()).toEqual(['README.md', 'old.txt', 'src/new.txt']);
    const commit = known.kind === 'committed' ? known.commit : '';
    expect(await git(repo, 'show', '--name-status', '--format=', commit)).toBe(
      'M\tREADME.md\nD\told.txt\nA\tsrc/new.txt',
    );
    await workspace.releaseWorktree(first);
    await workspace.settled();

    const second = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/b', commit: base });
    expect(second.path).toBe(first.path);
    await writeFile(join(second.path, 'src.txt'), 'b\n');
    const committed = await workspace.commitChanges(second, {
      message: 'b',
      author,
      isAllowed: () => true,
      knownPaths: ['src.txt'],
    });
    expect(committed.kind).toBe('committed');
    await workspace.releaseWorktree(second, { committedAll: true });
    await workspace.settled();
    const third = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/c', commit: base });
    expect(third.path).toBe(first.path);
    expect(await git(third.path, 'status', '--porcelain', '--untracked-files=all', '--ignored')).toBe('');
    expect(existsSync(join(third.path, 'src.txt'))).toBe(false);
    expect(await readFile(join(third.path, 'old.txt'), 'utf8')).toBe('old\n');
    await workspace.releaseWorktree(third);
    // Clean and untouched, moved to another commit: that commit's files, nothing else.
    await workspace.settled();
    const fourth = await workspace.acquireWorktree({ repoDir: repo, poolRoot, branch: 'fanout/r/d', commit });
    expect(await readFile(join(fourth.path, 'README.md'), 'utf8')).toBe('# changed\n');
    expect(existsSync(join(fourth.path, 'old.txt'))).toBe(false);
    expect(await git(fourth.path, 'status', '--porcelain', '--untracked-files=all', '--ignored')).toBe('');
    await workspace.releaseWorktree(fourth);
    await workspace.settled();
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

  it('refuses to commit symbolic links that leave the repository or point into .git, and protected paths', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'links'),
      branch: 'fanout/r/links',
      baseCommit: base,
    });
    const author = { name: 'F', email: 'f@example.com' };
    await symlink('/etc/passwd', join(worktree.path, 'absolute'));
    await symlink('../../outside', join(worktree.path, 'up'));
    await mkdir(join(worktree.path, 'docs'));
    await symlink('../.git/config', join(worktree.path, 'docs/config'));
    await symlink('README.md', join(worktree.path, 'inside'));
    const refused = await workspace.commitChanges(worktree, { message: 'm', author, isAllowed: () => true });
    expect(refused).toMatchObject({ kind: 'escaping-links', paths: ['absolute', 'docs/config', 'up'] });
    await rm(join(worktree.path, 'absolute'));
    await rm(join(worktree.path, 'up'));
    await rm(join(worktree.path, 'docs/config'));
    await mkdir(join(worktree.path, '.github/workflows'), { recursive: true });
    await writeFile(join(worktree.path, '.github/workflows/ci.yml'), 'on: push\n');
    expect(await workspace.commitChanges(worktree, { message: 'm', author, isAllowed: () => true })).toMatchObject({
      kind: 'out-of-scope',
      paths: ['.github/workflows/ci.yml'],
    });
    await rm(join(worktree.path, '.github'), { recursive: true });
    expect(await workspace.commitChanges(worktree, { message: 'm', author, isAllowed: () => true })).toMatchObject({
      kind: 'committed',
      files: ['inside'],
    });
    await workspace.removeWorktree(worktree);
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

  it('refuses to commit a file over 100 MiB before git reads it (a sparse file is cheap to make)', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'big'),
      branch: 'fanout/r/big',
      baseCommit: base,
    });
    await writeFile(join(worktree.path, 'data.bin'), '');
    await truncate(join(worktree.path, 'data.bin'), 6 * 1024 * 1024 * 1024);
    const outcome = await workspace.commitChanges(worktree, {
      message: 'm',
      author: { name: 'F', email: 'f@example.com' },
      isAllowed: () => true,
    });
    expect(outcome).toMatchObject({ kind: 'too-large', paths: ['data.bin'] });
    // Known paths that git will not stage as named (an ignored file) send the commit to git status:
    // what it finds is size-checked too.
    await writeFile(join(worktree.path, '.gitignore'), 'dist/\n');
    await mkdir(join(worktree.path, 'dist'));
    await writeFile(join(worktree.path, 'dist', 'x.js'), 'x\n');
    const known = await workspace.commitChanges(worktree, {
      message: 'm',
      author: { name: 'F', email: 'f@example.com' },
      isAllowed: () => true,
      knownPaths: ['.gitignore', 'dist/x.js'],
    });
    expect(known).toMatchObject({ kind: 'too-large', paths: ['data.bin'] });
    await workspace.removeWorktree(worktree);
  });

  it("never runs a nested repository's filter, and refuses to commit one", async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'nested'),
      branch: 'fanout/r/nested',
      baseCommit: base,
    });
    const marker = join(root, 'filter-ran');
    const nested = join(worktree.path, 'lib');
    await mkdir(nested);
    await git(nested, 'init', '-q');
    await git(nested, 'config', 'filter.evil.clean', `touch ${marker}; cat`);
    await writeFile(join(nested, '.gitattributes'), '* filter=evil\n');
    await writeFile(join(nested, 'code.js'), 'x\n');
    await git(nested, '-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '-qm', 'nested', '--allow-empty');
    await writeFile(join(nested, 'code.js'), 'changed\n');
    const outcome = await workspace.commitChanges(worktree, {
      message: 'm',
      author: { name: 'F', email: 'f@example.com' },
      isAllowed: () => true,
    });
    expect(outcome).toMatchObject({ kind: 'nested-repositories', paths: ['lib'] });
    expect(existsSync(marker)).toBe(false);
    await workspace.removeWorktree(worktree);
  });

  it('refuses a chain of links that leaves the repository, though each link alone stays inside', async () => {
    const { root, repo, base } = await sampleRepo();
    const workspace = new GitWorkspace();
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', 'chain'),
      branch: 'fanout/r/chain',
      baseCommit: base,
    });
    await mkdir(join(worktree.path, 'src/a/b'), { recursive: true });
    await symlink('../..', join(worktree.path, 'src/a/b/up'));
    await symlink('src/a/b/up/../../etc/hostname', join(worktree.path, 'x'));
    const outcome = await workspace.commitChanges(worktree, {
      message: 'm',
      author: { name: 'F', email: 'f@example.com' },
      isAllowed: () => true,
    });
    expect(outcome).toMatchObject({ kind: 'escaping-links', paths: ['x'] });
    await workspace.removeWorktree(worktree);
  });
});
