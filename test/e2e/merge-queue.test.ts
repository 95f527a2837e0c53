import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { mergeInOrder, type MergeItem, type MergeQueueInput } from '../../src/merge/merge-queue.js';
import { CHECK_NAME } from '../../src/orchestrate/publish.js';
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
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt', id),
      branch: `fanout/r/${id}`,
      baseCommit: base,
    });
    for (const [path, content] of Object.entries(files)) await writeFile(join(worktree.path, path), content);
    const commit = await workspace.commitChanges(worktree, { message: id, author, isAllowed: () => true });
    await workspace.removeWorktree(worktree);
    if (commit.kind !== 'committed') throw new Error('setup commit failed');
    const pr = await forge.openPullRequest({
      runId: 'r',
      subtaskId: id,
      title: id,
      body: '',
      branch: `fanout/r/${id}`,
      base: 'main',
      headSha: commit.commit,
    });
    await check(forge, commit.commit, 'success');
    items.push({ subtaskId: id, prNumber: pr.number, title: id, dependsOn: [] });
  }
  // Ends as a run does: once the worktrees it released are tidied (the test's directory goes next).
  const queue = (overrides: Partial<MergeQueueInput> = {}) =>
    mergeInOrder({
      forge,
      workspace,
      repoDir: repo,
      baseBranch: 'main',
      poolRoot: join(root, 'pool'),
      approval: 'auto',
      method: 'merge',
      updateBeforeMerge: true,
      validationCheck: CHECK_NAME,
      items,
      alreadyMerged: new Set(),
      // A branch updated with its base is validated again: green here.
      revalidate: async (_worktree, head) => {
        await check(forge, head, 'success');
        return true;
      },
      ...overrides,
    }).finally(() => workspace.settled());
  return { root, repo, forge, items, queue };
}

/** Publishes a check on a head, as validation (or the repository's CI) would; `pending` leaves it running. */
async function check(
  forge: LocalForge,
  headSha: string,
  conclusion: 'success' | 'failure' | 'pending',
  name = CHECK_NAME,
): Promise<void> {
  const id = await forge.startCheck({ name, headSha, title: name });
  if (conclusion !== 'pending') await forge.completeCheck(id, { conclusion, title: conclusion, summary: '' });
}

describe('merge queue', () => {
  it('lands ready pull requests with nothing to validate again as one series, in plan order; a dependent after its dependency', async () => {
    const changes = { a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' }, c: { 'c.txt': 'c\n' } };
    for (const [label, dependsOn, updateBeforeMerge, landings] of [
      ['independent', [], false, [3]],
      ['c depends on a', ['a'], false, [2, 1]],
      ['validated again after each update', [], true, [1, 1, 1]],
    ] as const) {
      const { repo, forge, items, queue } = await setup(changes);
      const series: number[] = [];
      const counting = Object.assign(Object.create(forge) as LocalForge, {
        mergeSeries: (requests: Parameters<LocalForge['mergeSeries']>[0]) => {
          series.push(requests.length);
          return forge.mergeSeries(requests);
        },
      });
      const results = await queue({
        forge: counting,
        method: 'squash',
        updateBeforeMerge,
        items: [items[0]!, items[1]!, { ...items[2]!, dependsOn }],
      });
      expect(
        [...results.values()].map((result) => result.kind),
        label,
      ).toEqual(['merged', 'merged', 'merged']);
      expect(series, label).toEqual(landings);
      const subjects = (await git(repo, 'log', '--first-parent', '--format=%s', 'main', '-3')).split('\n').reverse();
      expect(subjects, label).toEqual(items.map((item) => `${item.title} (#${item.prNumber})`));
      expect(await git(repo, 'status', '--porcelain'), label).toBe('');
    }
  });

  it('fails a conflicting PR cleanly and goes on with the next', async () => {
    const { repo, forge, items, queue } = await setup({
      readme: { 'README.md': '# from the PR\n' },
      other: { 'CHANGELOG.md': '# changelog from PR\n' },
    });
    // Someone commits to main meanwhile, touching the same file.
    await writeFile(join(repo, 'README.md'), '# from main\n');
    await git(repo, 'commit', '-qam', 'direct change on main');
    const results = await queue();
    expect(results.get('readme')).toEqual({
      kind: 'failed',
      reason: 'conflict',
      message: 'conflicts with main in README.md',
    });
    // The PR taken out of the queue says why.
    expect((await forge.comments(items[0]!.prNumber)).map((comment) => comment.body)).toEqual([
      expect.stringContaining('conflicts with main in README.md'),
    ]);
    expect(results.get('other')).toMatchObject({ kind: 'merged' });
    expect(await git(repo, 'show', 'main:CHANGELOG.md')).toBe('# changelog from PR');
    expect(await git(repo, 'status', '--porcelain')).toBe('');
    // No repository or worktree is left mid-merge; Fanout's merge worktree is gone.
    expect(await git(repo, 'worktree', 'list')).not.toContain('merge');
  });

  it('merges only the exact validated head, and not a PR whose validation failed or whose dependency failed', async () => {
    const { forge, items, queue } = await setup({ a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' } });
    const head = (await forge.getPullRequest(items[0]!.prNumber)).headSha;
    await check(forge, head, 'failure');
    const results = await queue({ items: [items[0]!, { ...items[1]!, dependsOn: ['a'] }] });
    expect(results.get('a')).toMatchObject({ kind: 'failed', reason: 'validation-failed' });
    expect(results.get('b')).toMatchObject({ kind: 'failed', reason: 'dependency-failed' });

    const refused = await forge.merge(items[0]!.prNumber, { expectedHeadSha: '0'.repeat(40), title: 'a' });
    expect(refused).toMatchObject({
      kind: 'refused',
      reason: 'head-moved',
      message: expect.stringContaining(`moved to ${head.slice(0, 8)}`),
    });
  });

  it('leaves a PR whose repository CI is red unmerged, and waits in plan order while CI runs', async () => {
    const { repo, forge, items, queue } = await setup({
      a: { 'a.txt': 'a\n' },
      b: { 'b.txt': 'b\n' },
      c: { 'c.txt': 'c\n' },
    });
    const before = await git(repo, 'rev-parse', 'main');
    await check(forge, (await forge.getPullRequest(items[0]!.prNumber)).headSha, 'failure', 'ci/tests');
    await check(forge, (await forge.getPullRequest(items[1]!.prNumber)).headSha, 'pending', 'ci/tests');
    const results = await queue();
    expect(results.get('a')).toEqual({
      kind: 'failed',
      reason: 'checks-failed',
      message: 'checks failed on the head: ci/tests',
    });
    expect(results.get('b')).toEqual({
      kind: 'waiting',
      reason: 'checks-pending',
      message: 'waiting for checks: ci/tests',
    });
    // c is ready, but merges after b: plan order.
    expect(results.get('c')).toMatchObject({ kind: 'waiting', reason: 'queued' });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
  });

  it('waits for a review under approval: manual, and records who approved', async () => {
    const { forge, items, queue } = await setup({ a: { 'a.txt': 'a\n' } });
    const waiting = await queue({ approval: 'manual' });
    expect(waiting.get('a')).toEqual({
      kind: 'waiting',
      reason: 'review-required',
      message: 'waiting for an approving review (approval: manual)',
    });
    await forge.recordReview(items[0]!.prNumber, { by: 'maintainer', state: 'approved' });
    const merged = await queue({ approval: 'manual' });
    expect(merged.get('a')).toMatchObject({ kind: 'merged', approvedBy: 'maintainer' });
  });

  it("keeps an approval over Fanout's own update with the base, and records that update", async () => {
    const { repo, forge, items, queue } = await setup({ a: { 'a.txt': 'a\n' }, b: { 'b.txt': 'b\n' } });
    const approvedB = await workspace.resolveCommit(repo, 'fanout/r/b');
    for (const item of items) await forge.recordReview(item.prNumber, { by: 'maintainer', state: 'approved' });
    const updates: Array<{ subtaskId: string; from: string; to: string }> = [];
    const results = await queue({
      approval: 'manual',
      onBranchUpdated: async (subtaskId, update) => {
        updates.push({ subtaskId, ...update });
      },
    });
    expect(results.get('a')).toMatchObject({ kind: 'merged', approvedBy: 'maintainer' });
    // b took a's merge in (a commit the approver did not see, but only the base's changes): still approved.
    const updatedB = await workspace.resolveCommit(repo, 'fanout/r/b');
    expect(updates).toEqual([{ subtaskId: 'b', from: approvedB, to: updatedB }]);
    expect(results.get('b')).toMatchObject({ kind: 'merged', revalidated: true, approvedBy: 'maintainer' });
    expect(await git(repo, 'show', 'main:b.txt')).toBe('b');
  });

  it('holds a head Fanout itself pushed after the approval (a fix): a new approval is needed', async () => {
    const { repo, forge, items, queue } = await setup({ a: { 'a.txt': 'a\n' } });
    const approved = await workspace.resolveCommit(repo, 'fanout/r/a');
    await forge.recordReview(items[0]!.prNumber, { by: 'maintainer', state: 'approved' });
    // A fix commit on the approved head, pushed as a fix job pushes it (compare-and-swap), and validated.
    const fix = await git(repo, 'commit-tree', `${approved}^{tree}`, '-p', approved, '-m', 'Fix: something else');
    await forge.pushBranch('fanout/r/a', fix, approved);
    await check(forge, fix, 'success');
    const before = await git(repo, 'rev-parse', 'main');
    const results = await queue({ approval: 'manual' });
    expect(results.get('a')).toEqual({
      kind: 'waiting',
      reason: 'approval-stale',
      message: `approval is for an older head ${approved.slice(0, 7)}; a new approval is needed for ${fix.slice(0, 7)}`,
    });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
    await forge.recordReview(items[0]!.prNumber, { by: 'maintainer', state: 'approved' });
    expect((await queue({ approval: 'manual' })).get('a')).toMatchObject({ kind: 'merged', approvedBy: 'maintainer' });
  });

  it('never touches a user checkout with uncommitted changes', async () => {
    const { repo, queue } = await setup({ a: { 'a.txt': 'a\n' } });
    await writeFile(join(repo, 'README.md'), '# my unsaved work\n');
    const before = await git(repo, 'rev-parse', 'main');
    const results = await queue();
    expect(results.get('a')).toMatchObject({
      kind: 'failed',
      reason: 'merge-refused',
      message: expect.stringContaining('uncommitted changes'),
    });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
    expect(await git(repo, 'status', '--porcelain')).toBe('M README.md');
  });

  it('reports merged only what is on the base when an untracked file is where a PR adds one', async () => {
    const { repo, queue } = await setup({ a: { 'a.txt': 'from the PR\n' } });
    await writeFile(join(repo, 'a.txt'), 'my own file\n');
    const before = await git(repo, 'rev-parse', 'main');

    const refused = await queue();

    expect(refused.get('a')).toMatchObject({
      kind: 'failed',
      reason: 'merge-refused',
      message: expect.stringContaining('a.txt'),
    });
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
    const { repo, queue } = await setup({ a: { 'a.txt': 'a\n' } });
    const before = await git(repo, 'rev-parse', 'main');
    const first = await queue();
    expect(first.get('a')).toMatchObject({ kind: 'merged' });
    // The user takes the merge back out of main.
    await git(repo, 'reset', '--hard', '-q', before);

    const again = await queue();

    expect(again.get('a')).toMatchObject({
      kind: 'failed',
      reason: 'not-on-base',
      message: expect.stringContaining('no longer on main'),
    });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before);
  });

  it('does not merge a second time a PR whose head is already on the base', async () => {
    const { repo, forge, items, queue } = await setup({ a: { 'a.txt': 'a\n' } });
    const head = (await forge.getPullRequest(items[0]!.prNumber)).headSha;
    // Merged outside Fanout's record (by hand, or by a process whose record was lost).
    await git(repo, 'merge', '--no-ff', '-q', '-m', 'merged by hand', 'fanout/r/a');
    const main = await git(repo, 'rev-parse', 'main');

    const results = await queue();

    expect(results.get('a')).toMatchObject({ kind: 'merged', sha: head });
    expect(await git(repo, 'rev-parse', 'main')).toBe(main);
  });
});
