import { afterEach, describe, expect, it } from 'vitest';
import { finish } from '../support/agent-replies.js';
import { OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import {
  botCommentsOn,
  checksOn,
  commentOnPullRequest,
  deliverReview,
  fixApp,
  headOf,
  MANUAL,
  pulls,
  review,
  until,
  write,
} from '../support/app-fix-steps.js';

let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof fixApp>) {
  const started = await fixApp(...args);
  harness = started.h;
  return started;
}

describe('fix attempts in the GitHub App: races and edge cases', () => {
  it('a fix on a PR the merge queue updated with the base is judged on its own files: fanout/scope stays green', async () => {
    const { h, brain } = await start({
      agents: {
        'First part': write('one.txt', 'one\n', 'Wrote one.txt.'),
        'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
      },
      fixes: { 'Second part': write('two.txt', 'TWO\n', 'Upper-cased two.') },
    });
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first, second] = pulls(h);
    await review(h, first!, 'maintainer', 'APPROVED');
    expect(h.fake.repo(OWNER, REPO).pulls.get(first!.number)!.merged).toBe(true);
    // The queue brought PR two up to date with main (a merge commit holding one.txt) and pushed it.
    const updated = await headOf(h, second!.head);

    await review(h, second!, 'maintainer', 'CHANGES_REQUESTED', [], 'Upper-case two, please.');
    const fixed = await headOf(h, second!.head);
    expect(fixed).not.toBe(updated);
    const scope = h.fake
      .repo(OWNER, REPO)
      .checkRuns.find((run) => run.headSha === fixed && run.name === 'fanout/scope');
    expect(scope?.conclusion).toBe('success');
    expect(checksOn(h, fixed)).toEqual(
      expect.arrayContaining([
        ['fanout/scope', 'success'],
        ['fanout/validate', 'success'],
      ]),
    );
    expect(botCommentsOn(h, second!.number).find((body) => body.startsWith('Fix attempt 1'))).toContain(
      'Validation passed.',
    );
    // No second, futile attempt on a check the agent cannot fix.
    expect(brain.fixPromptsFor('Second part')).toHaveLength(1);
  }, 60_000);

  it('a review that arrives while the fix job reads the first review is kept, and gets its own attempt and replies', async () => {
    const { h, brain } = await start({
      agents: {
        'First part': write('one.txt', 'alpha\nbeta\n', 'Wrote one.txt.'),
        'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
      },
      fixes: { 'First part': write('one.txt', 'Alpha\nBeta\n', 'Capitalized.') },
    });
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first] = pulls(h);
    const runId = (await h.app.store.listRuns())[0]!.id;
    const a = await h.fake.addReview(OWNER, REPO, first!.number, {
      user: 'maintainer',
      state: 'CHANGES_REQUESTED',
      comments: [{ path: 'one.txt', line: 1, body: 'Capitalize alpha.' }],
    });
    const b = await h.fake.addReview(OWNER, REPO, first!.number, {
      user: 'maintainer',
      state: 'CHANGES_REQUESTED',
      comments: [{ path: 'one.txt', line: 2, body: 'Capitalize beta.' }],
    });
    // Review B's webhook is delivered while the fix job for review A reads A's comments (gatherFeedback).
    let fired = false;
    h.fake.beforeRoute = async (_method, url) => {
      if (!fired && url.pathname.endsWith(`/reviews/${a.id}/comments`)) {
        fired = true;
        await deliverReview(h, first!, 'maintainer', 'CHANGES_REQUESTED', b.id);
        await until('review B queued', async () =>
          ((await h.app.store.getSubtask(runId, 'one'))?.fixRequests ?? []).some(
            (request) => request.kind === 'review' && request.reviewId === b.id,
          ),
        );
      }
    };
    await deliverReview(h, first!, 'maintainer', 'CHANGES_REQUESTED', a.id);
    await h.settle();
    expect(fired).toBe(true);
    const record = await h.app.store.getSubtask(runId, 'one');
    const answered = h.fake.replies(OWNER, REPO, first!.number).map((reply) => reply.inReplyTo);
    expect(record?.fixes?.map((fix) => fix.trigger)).toEqual([
      expect.objectContaining({ kind: 'review', reviewId: a.id }),
      expect.objectContaining({ kind: 'review', reviewId: b.id }),
    ]);
    expect(record?.fixRequests ?? []).toEqual([]);
    expect(
      brain.fixPromptsFor('First part').some((prompt) => prompt.includes('Capitalize beta.')),
      'review B reached the agent',
    ).toBe(true);
    expect(answered).toContain(b.commentIds[0]);
  }, 60_000);

  it("a review that arrives while the first validation runs (red) is not overwritten by the red check's fix request", async () => {
    // Passes on the base (no one.txt), fails slowly on the agent's branch.
    const config = 'validate:\n  - node slow-check.cjs\napproval: manual\n';
    const files = {
      'slow-check.cjs': "setTimeout(() => process.exit(require('fs').existsSync('one.txt') ? 1 : 0), 3000);\n",
    };
    const { h, brain } = await start(
      {
        plan: [{ id: 'one', title: 'First part', writeScope: ['one.txt', 'ok.txt'] }],
        agents: { 'First part': write('one.txt', 'alpha\n', 'Wrote one.txt.') },
        fixes: { 'First part': [finish('Nothing I can do.')] },
      },
      config,
      files,
    );
    await h.comment('/orchestrate Write a file');
    await until('the run', async () => (await h.app.store.listRuns()).length === 1);
    const runId = (await h.app.store.listRuns())[0]!.id;
    await until('PR open, validation running', async () => {
      const record = await h.app.store.getSubtask(runId, 'one');
      return (
        !!record?.pr &&
        h.fake
          .repo(OWNER, REPO)
          .checkRuns.some(
            (run) => run.name === 'fanout/validate' && run.headSha === record.pr!.headSha && run.status !== 'completed',
          )
      );
    });
    const [first] = pulls(h);
    const added = await h.fake.addReview(OWNER, REPO, first!.number, {
      user: 'maintainer',
      state: 'CHANGES_REQUESTED',
      body: 'Rename it.',
      comments: [{ path: 'one.txt', line: 1, body: 'Say hello instead.' }],
    });
    await deliverReview(h, first!, 'maintainer', 'CHANGES_REQUESTED', added.id, 'Rename it.');
    await until('review queued', async () =>
      ((await h.app.store.getSubtask(runId, 'one'))?.fixRequests ?? []).some((request) => request.kind === 'review'),
    );
    await h.settle();
    const record = await h.app.store.getSubtask(runId, 'one');
    expect(record?.fixes?.map((fix) => fix.trigger.kind)).toEqual(['review', 'check']);
    expect(
      brain.fixPromptsFor('First part').some((prompt) => prompt.includes('Say hello instead.')),
      'the review reached the agent',
    ).toBe(true);
  }, 60_000);

  it('a writer replying "thanks" in a thread Fanout answered starts no fix attempt', async () => {
    const { h, brain } = await start(
      {
        agents: {
          'First part': write('one.txt', 'alpha\n', 'Wrote one.txt.'),
          'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
        },
        fixes: { 'First part': write('one.txt', 'Alpha\n', 'Capitalized alpha.') },
      },
      `${MANUAL}maxFixAttempts: 1\n`,
    );
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first] = pulls(h);
    const { commentIds } = await review(h, first!, 'maintainer', 'CHANGES_REQUESTED', [
      { path: 'one.txt', line: 1, body: 'Capitalize alpha.' },
    ]);
    expect(brain.fixPromptsFor('First part')).toHaveLength(1);
    // The maintainer answers Fanout's reply in the same thread: GitHub submits a COMMENTED review with one inline comment.
    const thanks = await h.fake.addReview(OWNER, REPO, first!.number, {
      user: 'maintainer',
      state: 'COMMENTED',
      comments: [{ path: 'one.txt', line: 1, body: 'Thanks, looks right now.' }],
    });
    const comment = h.fake.repo(OWNER, REPO).reviewComments.find((candidate) => candidate.id === thanks.commentIds[0])!;
    (comment as { inReplyTo?: number }).inReplyTo = commentIds[0];
    await deliverReview(h, first!, 'maintainer', 'COMMENTED', thanks.id);
    await h.settle();
    expect(h.fake.labels(OWNER, REPO, first!.number), 'a thank-you handed the PR to a person').toEqual([]);
    expect(brain.fixPromptsFor('First part')).toHaveLength(1);
  }, 60_000);

  it('`/fanout fix` past the cap is answered as such, and the PR goes to a person', async () => {
    const { h } = await start(
      {
        agents: {
          'First part': write('one.txt', 'alpha\n', 'Wrote one.txt.'),
          'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
        },
        fixes: { 'First part': write('one.txt', 'Alpha\n', 'Capitalized alpha.') },
      },
      `${MANUAL}maxFixAttempts: 1\n`,
    );
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first] = pulls(h);
    await review(h, first!, 'maintainer', 'CHANGES_REQUESTED', [], 'Capitalize.');
    await commentOnPullRequest(h, first!.number, '/fanout fix once more');
    const comments = botCommentsOn(h, first!.number);
    expect(comments.some((c) => c.includes('fix attempt 2 of at most 1'))).toBe(false);
    expect(comments).toEqual(expect.arrayContaining([expect.stringContaining('has used its 1 fix attempt(s)')]));
    expect(h.fake.labels(OWNER, REPO, first!.number)).toEqual(['fanout: needs human']);
  }, 60_000);

  it('a forge error after the fix was pushed: the attempt counts as pushed, and the record follows the branch', async () => {
    const { h } = await start({
      agents: {
        'First part': write('one.txt', 'alpha\n', 'Wrote one.txt.'),
        'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
      },
      fixes: { 'First part': write('one.txt', 'Alpha\n', 'Capitalized alpha.') },
    });
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first] = pulls(h);
    const runId = (await h.app.store.listRuns())[0]!.id;
    const before = await headOf(h, first!.head);
    // The first check Fanout starts after the push (fanout/scope on the fix) fails once.
    h.fake.failNext({ method: 'POST', path: `/repos/${OWNER}/${REPO}/check-runs`, status: 422 });
    await review(h, first!, 'maintainer', 'CHANGES_REQUESTED', [], 'Capitalize alpha.');
    const after = await headOf(h, first!.head);
    const record = await h.app.store.getSubtask(runId, 'one');
    expect(after).not.toBe(before);
    expect(record?.fixes?.[0]?.state, 'the attempt did push').toBe('pushed');
    expect(record?.pr?.headSha).toBe(after);
  }, 60_000);
});
