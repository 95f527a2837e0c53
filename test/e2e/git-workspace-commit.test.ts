import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { git, sampleRepo } from '../support/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

describe('GitWorkspace worktrees', () => {
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
    await mkdir(join(worktree.path, '.github/actions/setup'), { recursive: true });
    await writeFile(join(worktree.path, '.github/actions/setup/action.yml'), 'runs: { using: composite }\n');
    await writeFile(join(worktree.path, '.github/CODEOWNERS'), '* @agent\n');
    await mkdir(join(worktree.path, 'deploy'));
    await writeFile(join(worktree.path, 'deploy/prod.sh'), 'exit 0\n');
    // The repository's own protectedPaths reach the commit too, whatever the caller allows.
    expect(
      await workspace.commitChanges(worktree, {
        message: 'm',
        author,
        isAllowed: () => true,
        protectedPaths: protectedPaths(['deploy/']),
      }),
    ).toMatchObject({
      kind: 'out-of-scope',
      paths: ['.github/CODEOWNERS', '.github/actions/setup/action.yml', '.github/workflows/ci.yml', 'deploy/prod.sh'],
    });
    await rm(join(worktree.path, 'deploy'), { recursive: true });
    await rm(join(worktree.path, '.github'), { recursive: true });
    expect(await workspace.commitChanges(worktree, { message: 'm', author, isAllowed: () => true })).toMatchObject({
      kind: 'committed',
      files: ['inside'],
    });
    await workspace.removeWorktree(worktree);
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
