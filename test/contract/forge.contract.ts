import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Forge, OpenPullRequest } from '../../src/ports/forge.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { commitFiles, isAncestor } from '../support/fake-github/git.js';

const run = promisify(execFile);
const gitOutput = async (gitDir: string, args: string[]) =>
  (await run('git', ['--git-dir', gitDir, ...args])).stdout.trim();

/** One forge under test plus the test-side actions that differ per implementation. */
export interface ForgeHarness {
  forge: Forge;
  /** Where Fanout's commits are made (the repository in local mode, Fanout's clone on GitHub). */
  repoDir: string;
  /** The base branch pull requests go into. */
  base: string;
  /** A person with write access reviews the PR's current head; returns their login. */
  reviewAsWriter(number: number, state: 'approved' | 'changes_requested'): Promise<string>;
  /** A person with read access only approves; null where there are no such people (local mode). */
  approveAsReader: ((number: number) => Promise<string>) | null;
  /** A comment's text as people see it. */
  commentBody(issueOrPullRequest: number, commentId: number): Promise<string>;
  /** A person with write access reviews the PR's head with text and inline comments; returns the review's id. */
  reviewWithComments(
    number: number,
    review: {
      state: 'approved' | 'changes_requested' | 'commented';
      body: string;
      comments: Array<{ path: string; line: number; body: string }>;
    },
  ): Promise<number>;
  /** The replies in the PR's review threads: the comment each answers, and its text as people see it. */
  replies(number: number): Promise<Array<{ inReplyTo: number; body: string }>>;
  /** The labels on an issue or PR. */
  labels(number: number): Promise<string[]>;
  /** Who is asked to review the PR. */
  requestedReviewers(number: number): Promise<string[]>;
  /** The repository's CI fails a check on the head, with this output. */
  failCheck(headSha: string, check: { name: string; title: string; summary: string; text: string }): Promise<void>;
  /** Checks after the test (a fake that saw calls it does not implement fails here). */
  close(): Promise<void>;
}

function request(branch: string, headSha: string, base: string): OpenPullRequest {
  return {
    runId: 'run-1',
    subtaskId: branch.split('/').pop() ?? 'a',
    title: `Work on ${branch}`,
    body: 'Part of #1',
    branch,
    base,
    headSha,
  };
}

/** The behaviour every Forge must show, as its doc comments state it. */
export function forgeContract(name: string, makeHarness: () => Promise<ForgeHarness>): void {
  describe(`Forge contract: ${name}`, () => {
    const open: ForgeHarness[] = [];
    afterEach(async () => {
      for (const harness of open.splice(0)) await harness.close();
    });

    async function setup() {
      const harness = await makeHarness();
      open.push(harness);
      const { forge, repoDir } = harness;
      const base = await forge.fetchBase(harness.base);
      const commit = (parent: string, files: Record<string, string>) =>
        commitFiles(join(repoDir, '.git'), parent, files);
      /** Pushes a new branch with one commit on the base and opens its pull request. */
      const openOne = async (
        branch: string,
        files: Record<string, string> = { [`${branch.split('/').pop()}.txt`]: `${branch}\n` },
      ) => {
        const head = await commit(base, files);
        await forge.pushBranch(branch, head, null);
        return { head, pr: await forge.openPullRequest(request(branch, head, harness.base)) };
      };
      return { ...harness, baseSha: base, commit, openOne };
    }

    it('pushes a branch and opens one pull request for it, however often it is asked', async () => {
      const { forge, base, openOne } = await setup();
      const { head, pr } = await openOne('fanout/run-1/a');
      expect(pr).toMatchObject({ branch: 'fanout/run-1/a', base, headSha: head, state: 'open' });
      expect(pr.url).not.toBe('');
      const again = await forge.openPullRequest(request('fanout/run-1/a', head, base));
      expect(again.number).toBe(pr.number);
      expect(await forge.getPullRequest(pr.number)).toMatchObject({
        number: pr.number,
        branch: 'fanout/run-1/a',
        headSha: head,
        state: 'open',
      });
      const other = await openOne('fanout/run-1/b');
      expect(other.pr.number).not.toBe(pr.number);
    });

    it('moves a branch only from the sha it was expected at', async () => {
      const { forge, baseSha, commit, openOne } = await setup();
      const { head: first, pr } = await openOne('fanout/run-1/a');
      const second = await commit(first, { 'more.txt': 'more\n' });
      await forge.pushBranch('fanout/run-1/a', second, first);
      const third = await commit(first, { 'other.txt': 'other\n' });
      await expect(forge.pushBranch('fanout/run-1/a', third, first)).rejects.toMatchObject({ code: 'branch-moved' });
      expect((await forge.getPullRequest(pr.number)).headSha).toBe(second);
      expect(await forge.fetchBase('fanout/run-1/a')).toBe(second);
      // A branch that does not exist is not at any expected sha.
      await expect(forge.pushBranch('fanout/run-1/absent', third, baseSha)).rejects.toMatchObject({
        code: 'branch-moved',
      });
    });

    it('shows a started check as pending, then its conclusion; another failing check fails the head', async () => {
      const { forge, openOne } = await setup();
      const { head, pr } = await openOne('fanout/run-1/a');
      const validate = await forge.startCheck({ name: 'fanout/validate', headSha: head, title: 'Validating' });
      expect((await forge.readiness(pr.number)).checks).toContainEqual({ name: 'fanout/validate', state: 'pending' });
      await forge.completeCheck(validate, {
        conclusion: 'success',
        title: 'Passed',
        summary: 'All 2 commands passed',
        text: 'ok\n',
      });
      expect((await forge.readiness(pr.number)).checks).toEqual([{ name: 'fanout/validate', state: 'success' }]);

      const lint = await forge.startCheck({ name: 'ci/lint', headSha: head, title: 'Linting' });
      await forge.completeCheck(lint, { conclusion: 'failure', title: 'Failed', summary: '3 problems' });
      const scope = await forge.startCheck({ name: 'fanout/scope', headSha: head, title: 'Scope' });
      await forge.completeCheck(scope, { conclusion: 'neutral', title: 'Nothing to check', summary: 'no files' });
      const checks = (await forge.readiness(pr.number)).checks;
      expect(checks).toHaveLength(3);
      expect(checks).toEqual(
        expect.arrayContaining([
          { name: 'fanout/validate', state: 'success' },
          { name: 'ci/lint', state: 'failure' },
          { name: 'fanout/scope', state: 'success' },
        ]),
      );
    });

    it('counts an approval from a writer, not from a read-only user, and lists requests for changes', async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { head, pr } = await openOne('fanout/run-1/a');
      expect(await forge.readiness(pr.number)).toMatchObject({ approvals: [], changesRequestedBy: [] });
      const writer = await harness.reviewAsWriter(pr.number, 'approved');
      expect((await forge.readiness(pr.number)).approvals).toEqual([{ by: writer, headSha: head }]);
      if (harness.approveAsReader) {
        const reader = await harness.approveAsReader(pr.number);
        expect((await forge.readiness(pr.number)).approvals).toEqual([{ by: writer, headSha: head }]);
        expect(reader).not.toBe(writer);
      }
      // The latest review of a user is the one that counts.
      await harness.reviewAsWriter(pr.number, 'changes_requested');
      expect(await forge.readiness(pr.number)).toMatchObject({ approvals: [], changesRequestedBy: [writer] });
    });

    it('reports an approval with the head it was given on: a later push leaves it on the old head', async () => {
      const harness = await setup();
      const { forge, commit, openOne } = harness;
      const { head, pr } = await openOne('fanout/run-1/a');
      const writer = await harness.reviewAsWriter(pr.number, 'approved');
      const pushed = await commit(head, { 'a.txt': 'changed after the approval\n' });
      await forge.pushBranch('fanout/run-1/a', pushed, head);
      expect((await forge.getPullRequest(pr.number)).headSha).toBe(pushed);
      expect((await forge.readiness(pr.number)).approvals).toEqual([{ by: writer, headSha: head }]);
      // Approved again, on the new head.
      await harness.reviewAsWriter(pr.number, 'approved');
      expect((await forge.readiness(pr.number)).approvals).toEqual([{ by: writer, headSha: pushed }]);
    });

    it('merges only the expected head: a moved head is refused and nothing merges', async () => {
      const { forge, base, baseSha, commit, openOne } = await setup();
      const { head, pr } = await openOne('fanout/run-1/a');
      const moved = await commit(head, { 'late.txt': 'pushed later\n' });
      await forge.pushBranch('fanout/run-1/a', moved, head);
      const result = await forge.merge(pr.number, { expectedHeadSha: head, title: 'Work on a' });
      expect(result).toMatchObject({ kind: 'refused', reason: 'head-moved' });
      expect(await forge.fetchBase(base)).toBe(baseSha);
      expect((await forge.getPullRequest(pr.number)).state).toBe('open');
    });

    it('reports a merged pull request with its merge sha, which the fetched base contains', async () => {
      const { forge, base, repoDir, openOne } = await setup();
      const { head, pr } = await openOne('fanout/run-1/a');
      const result = await forge.merge(pr.number, {
        expectedHeadSha: head,
        title: 'Work on a\n\nApproved by Fanout.',
        method: 'merge',
      });
      if (result.kind !== 'merged') throw new Error(`not merged: ${JSON.stringify(result)}`);
      expect(await forge.getPullRequest(pr.number)).toMatchObject({ state: 'merged', mergedSha: result.sha });
      const newBase = await forge.fetchBase(base);
      expect(newBase).toBe(result.sha);
      expect(await isAncestor(join(repoDir, '.git'), head, newBase)).toBe(true);
      // Asked again (a resumed run), the same merge is reported, not a second one made.
      expect(await forge.merge(pr.number, { expectedHeadSha: head, title: 'Work on a' })).toEqual({
        kind: 'merged',
        sha: result.sha,
      });
      expect(await forge.fetchBase(base)).toBe(result.sha);
    });

    it("squashes by default: one commit on the base carrying the PR number, with the head's tree", async () => {
      const { forge, base, repoDir, openOne } = await setup();
      const before = await forge.fetchBase(base);
      const { head, pr } = await openOne('fanout/run-1/a');
      const result = await forge.merge(pr.number, { expectedHeadSha: head, title: 'Work on a', method: 'squash' });
      if (result.kind !== 'merged') throw new Error(`not merged: ${JSON.stringify(result)}`);
      const gitDir = join(repoDir, '.git');
      const show = (format: string, rev: string) => gitOutput(gitDir, ['log', '-1', `--format=${format}`, rev]);
      expect(await forge.fetchBase(base)).toBe(result.sha);
      expect(await show('%P', result.sha)).toBe(before);
      expect(await show('%T', result.sha)).toBe(await show('%T', head));
      expect(await show('%s', result.sha)).toBe(`Work on a (#${pr.number})`);
    });

    it('merges a series in order, each on the one before; a refused one stops none of the others', async () => {
      const { forge, base, repoDir, commit, openOne } = await setup();
      const before = await forge.fetchBase(base);
      const a = await openOne('fanout/run-1/a');
      const b = await openOne('fanout/run-1/b', { 'a.txt': 'b disagrees\n' });
      const c = await openOne('fanout/run-1/c');
      const d = await openOne('fanout/run-1/d');
      const moved = await commit(d.head, { 'late.txt': 'pushed later\n' });
      await forge.pushBranch('fanout/run-1/d', moved, d.head);
      const results = await forge.mergeSeries(
        [a, b, c, d].map(({ head, pr }) => ({
          number: pr.number,
          expectedHeadSha: head,
          title: `Work #${pr.number}`,
          method: 'squash' as const,
        })),
      );
      expect(results.map((result) => result.kind)).toEqual(['merged', 'refused', 'merged', 'refused']);
      expect(results[1]).toMatchObject({ reason: 'not-mergeable' });
      expect(results[3]).toMatchObject({ reason: 'head-moved' });
      const [first, , third] = results as Array<{ kind: 'merged'; sha: string }>;
      const gitDir = join(repoDir, '.git');
      expect(await forge.fetchBase(base)).toBe(third!.sha);
      expect(await gitOutput(gitDir, ['log', '-1', '--format=%P', third!.sha])).toBe(first!.sha);
      expect(await gitOutput(gitDir, ['log', '-1', '--format=%P', first!.sha])).toBe(before);
      expect(await gitOutput(gitDir, ['log', '-1', '--format=%s', third!.sha])).toBe(
        `Work #${c.pr.number} (#${c.pr.number})`,
      );
      expect((await forge.getPullRequest(a.pr.number)).state).toBe('merged');
      expect((await forge.getPullRequest(b.pr.number)).state).toBe('open');
      expect((await forge.getPullRequest(c.pr.number)).state).toBe('merged');
      expect((await forge.getPullRequest(d.pr.number)).state).toBe('open');
    });

    it('creates comments and edits them in place', async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { pr } = await openOne('fanout/run-1/a');
      const first = await forge.createComment(pr.number, 'Planning…');
      const second = await forge.createComment(pr.number, 'Another');
      expect(second).not.toBe(first);
      expect(await harness.commentBody(pr.number, first)).toContain('Planning…');
      await forge.updateComment(first, 'Plan: 3 subtasks');
      const body = await harness.commentBody(pr.number, first);
      expect(body).toContain('Plan: 3 subtasks');
      expect(body).not.toContain('Planning…');
      await expect(forge.updateComment(987_654, 'nobody')).rejects.toMatchObject({ code: 'forge-refused' });
    });

    it("returns a review's state, text and inline comments with their paths and lines", async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { pr } = await openOne('fanout/run-1/a');
      const reviewId = await harness.reviewWithComments(pr.number, {
        state: 'changes_requested',
        body: 'Two things, please.',
        comments: [
          { path: 'a.txt', line: 1, body: 'Say why.' },
          { path: 'a.txt', line: 1, body: 'And say it in French.' },
        ],
      });
      const feedback = await forge.reviewFeedback(pr.number, reviewId);
      expect(feedback).toMatchObject({ state: 'changes_requested', body: 'Two things, please.' });
      expect(feedback.reviewer).not.toBe('');
      expect(feedback.comments.map(({ path, line, body }) => ({ path, line, body }))).toEqual([
        { path: 'a.txt', line: 1, body: 'Say why.' },
        { path: 'a.txt', line: 1, body: 'And say it in French.' },
      ]);
      expect(new Set(feedback.comments.map((comment) => comment.id)).size).toBe(2);
      const plain = await harness.reviewWithComments(pr.number, { state: 'commented', body: '', comments: [] });
      expect(plain).not.toBe(reviewId);
      expect(await forge.reviewFeedback(pr.number, plain)).toMatchObject({
        state: 'commented',
        body: '',
        comments: [],
      });
      await expect(forge.reviewFeedback(pr.number, 987_654)).rejects.toMatchObject({ code: 'forge-refused' });
    });

    it('replies in the thread of the review comment it answers', async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { pr } = await openOne('fanout/run-1/a');
      const reviewId = await harness.reviewWithComments(pr.number, {
        state: 'changes_requested',
        body: '',
        comments: [
          { path: 'a.txt', line: 1, body: 'First.' },
          { path: 'a.txt', line: 1, body: 'Second.' },
        ],
      });
      const [first, second] = (await forge.reviewFeedback(pr.number, reviewId)).comments;
      await forge.replyToReviewComment(pr.number, second!.id, 'Fixed in the next commit.');
      const replies = await harness.replies(pr.number);
      expect(replies).toEqual([{ inReplyTo: second!.id, body: expect.stringContaining('Fixed in the next commit.') }]);
      expect(replies[0]!.inReplyTo).not.toBe(first!.id);
      await expect(forge.replyToReviewComment(pr.number, 987_654, 'nobody')).rejects.toMatchObject({
        code: 'forge-refused',
      });
    });

    it('asks reviewers again, and an empty list asks nobody', async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { pr } = await openOne('fanout/run-1/a');
      const reviewer = await harness.reviewAsWriter(pr.number, 'changes_requested');
      await forge.requestReview(pr.number, []);
      expect(await harness.requestedReviewers(pr.number)).toEqual([]);
      await forge.requestReview(pr.number, [reviewer]);
      expect(await harness.requestedReviewers(pr.number)).toEqual([reviewer]);
      // Reviewing answers the request.
      await harness.reviewAsWriter(pr.number, 'approved');
      expect(await harness.requestedReviewers(pr.number)).toEqual([]);
    });

    it('adds a label once, however often it is asked', async () => {
      const harness = await setup();
      const { forge, openOne } = harness;
      const { pr } = await openOne('fanout/run-1/a');
      expect(await harness.labels(pr.number)).toEqual([]);
      await forge.addLabel(pr.number, 'fanout: needs human');
      await forge.addLabel(pr.number, 'fanout: needs human');
      expect(await harness.labels(pr.number)).toEqual(['fanout: needs human']);
    });

    it('lists the failed checks on a head with their summaries and log tails, not the green ones', async () => {
      const harness = await setup();
      const { forge, baseSha, openOne } = harness;
      const { head } = await openOne('fanout/run-1/a');
      const validate = await forge.startCheck({ name: 'fanout/validate', headSha: head, title: 'Validating' });
      await forge.completeCheck(validate, {
        conclusion: 'success',
        title: 'Passed',
        summary: 'All commands passed',
        text: 'ok\n',
      });
      expect(await forge.checkFailures(head)).toEqual([]);
      const log = `${'noise\n'.repeat(2_000)}FAIL test/a.test.ts > adds\nexpected 2, got 3\n`;
      await harness.failCheck(head, { name: 'ci/tests', title: '1 test failed', summary: 'test/a.test.ts', text: log });
      const failures = await forge.checkFailures(head);
      expect(failures).toHaveLength(1);
      const [failure] = failures;
      expect(failure).toMatchObject({ name: 'ci/tests', annotations: [] });
      expect(failure!.summary).toContain('1 test failed');
      expect(failure!.summary).toContain('test/a.test.ts');
      expect(failure!.logTail).toMatch(/FAIL test\/a\.test\.ts > adds\nexpected 2, got 3$/);
      expect(failure!.logTail.length).toBeLessThanOrEqual(4_000);
      // Another head's failures are not this one's.
      expect(await forge.checkFailures(baseSha)).toEqual([]);
    });

    it('says pr-not-found for a pull request that does not exist', async () => {
      const { forge } = await setup();
      await expect(forge.getPullRequest(4242)).rejects.toMatchObject({ code: 'pr-not-found' });
    });
  });
}
