import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { mergeInOrder, type MergeItem } from '../../src/merge/merge-queue.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const workspace = new GitWorkspace();
const author = { name: 'Fanout', email: 'f@example.com' };
const git = async (cwd: string, ...args: string[]) =>
  (await exec('git', ['-c', 'user.name=u', '-c', 'user.email=u@u', ...args], { cwd })).stdout.trim();

/** A repository with one branch per change, each committed by the workspace, and its PR opened. */
async function setup(changes: Record<string, Record<string, string>>) {
  const root = await tempDir('fanout-queue-');
  const repo = join(root, 'repo');
  await createRepository(repo, SAMPLE_FILES);
  const forge = new LocalForge(repo, join(root, 'state'));
  const base = await workspace.resolveCommit(repo, 'main');
  const items: MergeItem[] = [];
  for (const [id, files] of Object.entries(changes)) {
    const worktree = await workspace.createWorktree({ repoDir: repo, path: join(root, 'wt', id), branch: `fanout/r/${id}`, baseCommit: base });
    for (const [path, content] of Object.entries(files)) await writeFile(join(worktree.path, path), content);
    const commit = await workspace.commitChanges(worktree, { message: id, author, isAllowed: () => true });
    await workspace.removeWorktree(worktree);
    if (commit.kind !== 'committed') throw new Error('setup commit failed');
    const pr = await forge.openPullRequest({ runId: 'r', subtaskId: id, title: id, body: '', branch: `fanout/r/${id}`, base: 'main', headSha: commit.commit });
    items.push({ subtaskId: id, prNumber: pr.number, title: id, dependsOn: [], validationPassed: true });
  }
  return { root, repo, forge, items };
}

describe('merge queue', () => {
  it('fails a conflicting PR cleanly and goes on with the next', async () => {
    const { root, repo, forge, items } = await setup({ readme: { 'README.md': '# from the PR\n' }, other: { 'CHANGELOG.md': '# changelog from PR\n' } });
    // Someone commits to main meanwhile, touching the same file.
    await writeFile(join(repo, 'README.md'), '# from main\n');
    await git(repo, 'commit', '-qam', 'direct change on main');
    const results = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });
    expect(results.get('readme')).toEqual({ kind: 'failed', reason: 'conflict', message: 'conflicts with main in README.md' });
    expect(results.get('other')).toMatchObject({ kind: 'merged' });
    expect(await git(repo, 'show', 'main:CHANGELOG.md')).toBe('# changelog from PR');
    expect(await git(repo, 'status', '--porcelain')).toBe('');
    // No repository or worktree is left mid-merge; Fanout's merge worktree is gone.
    expect(await git(repo, 'worktree', 'list')).not.toContain('merge');
  });

  it('merges only the exact validated head, and not a PR whose dependency failed', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' } });
    const failing = [{ ...items[0]!, validationPassed: false }, { ...items[1]!, dependsOn: ['a'] }];
    const results = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items: failing, revalidate: async () => true });
    expect(results.get('a')).toMatchObject({ kind: 'failed', reason: 'validation-failed' });
    expect(results.get('b')).toMatchObject({ kind: 'failed', reason: 'dependency-failed' });

    const pr = await forge.getPullRequest(items[0]!.prNumber);
    const refused = await forge.merge(items[0]!.prNumber, { expectedHeadSha: '0'.repeat(40), title: 'a' });
    expect(refused).toMatchObject({ kind: 'refused', reason: expect.stringContaining(`moved to ${pr.headSha.slice(0, 8)}`) });
  });

  it('waits for a review under approval: manual', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'a\n' } });
    const waiting = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'manual', items, revalidate: async () => true });
    expect(waiting.get('a')).toMatchObject({ kind: 'failed', reason: 'not-approved' });
    await forge.approve(items[0]!.prNumber, 'reviewed by a maintainer');
    const merged = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'manual', items, revalidate: async () => true });
    expect(merged.get('a')).toMatchObject({ kind: 'merged' });
  });

  it('never touches a user checkout with uncommitted changes', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'a\n' } });
    await writeFile(join(repo, 'README.md'), '# my unsaved work\n');
    const before = await git(repo, 'rev-parse', 'main');
    const results = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });
    expect(results.get('a')).toMatchObject({ kind: 'failed', reason: 'merge-refused', message: expect.stringContaining('uncommitted changes') });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
    expect(await git(repo, 'status', '--porcelain')).toBe('M README.md');
  });

  it('reports merged only what is on the base when an untracked file is where a PR adds one', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'from the PR\n' } });
    await writeFile(join(repo, 'a.txt'), 'my own file\n');
    const before = await git(repo, 'rev-parse', 'main');
    const queue = () => mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });

    const refused = await queue();

    expect(refused.get('a')).toMatchObject({ kind: 'failed', reason: 'merge-refused', message: expect.stringContaining('a.txt') });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
    expect(await git(repo, 'status', '--porcelain')).toBe('?? a.txt');

    // The user follows the advice, and the run is resumed.
    await rm(join(repo, 'a.txt'));
    const merged = await queue();

    expect(merged.get('a')).toMatchObject({ kind: 'merged', sha: await git(repo, 'rev-parse', 'main') });
    expect(await git(repo, 'show', 'main:a.txt')).toBe('from the PR');
    expect(await git(repo, 'status', '--porcelain')).toBe('');
  });

  it('does not call a PR merged once its merge is no longer on the base', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'a\n' } });
    const before = await git(repo, 'rev-parse', 'main');
    const first = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });
    expect(first.get('a')).toMatchObject({ kind: 'merged' });
    // The user takes the merge back out of main.
    await git(repo, 'reset', '--hard', '-q', before);

    const again = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });

    expect(again.get('a')).toMatchObject({ kind: 'failed', reason: 'not-on-base', message: expect.stringContaining('no longer on main') });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
  });

  it('does not merge a second time a PR whose head is already on the base', async () => {
    const { root, repo, forge, items } = await setup({ a: { 'a.txt': 'a\n' } });
    const head = (await forge.getPullRequest(items[0]!.prNumber)).headSha;
    // Merged outside Fanout's record (by hand, or by a process whose record was lost).
    await git(repo, 'merge', '--no-ff', '-q', '-m', 'merged by hand', 'fanout/r/a');
    const main = await git(repo, 'rev-parse', 'main');

    const results = await mergeInOrder({ forge, workspace, repoDir: repo, baseBranch: 'main', worktreePath: join(root, 'merge'), approval: 'auto', items, revalidate: async () => true });

    expect(results.get('a')).toMatchObject({ kind: 'merged', sha: head });
    expect(await git(repo, 'rev-parse', 'main')).toBe(main);
  });
});
