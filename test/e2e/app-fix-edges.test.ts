import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { appHarness, OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import { APP_BOT } from '../support/fake-github/state.js';
import { scriptedBrain, type BrainScript } from '../support/scripted-brain.js';
import { tempDir } from '../support/temp-dir.js';
import { example } from '../support/webhook-examples.js';

const exec = promisify(execFile);
const PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
const write = (path: string, content: string, summary: string, extra: Partial<ScriptedReply> = {}): ScriptedReply[] => [
  call('write_file', { path, content }, extra),
  finish(summary),
];
const MANUAL = 'validate:\n  - node --test\napproval: manual\n';

let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(
  script: Omit<BrainScript, 'plan'> & { plan?: BrainScript['plan'] },
  config = MANUAL,
  files: Record<string, string> = {},
) {
  const brain = scriptedBrain({ plan: PLAN, ...script });
  harness = await appHarness({ script: brain.reply, files: { '.github/fanout.yml': config, ...files } });
  return { h: harness, brain };
}

const pulls = (h: AppHarness) =>
  [...h.fake.repo(OWNER, REPO).pulls.values()].sort((a, b) => a.head.localeCompare(b.head));
const headOf = async (h: AppHarness, ref: string) =>
  (await exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'rev-parse', ref])).stdout.trim();
const checksOn = (h: AppHarness, sha: string) =>
  h.fake
    .repo(OWNER, REPO)
    .checkRuns.filter((run) => run.headSha === sha)
    .map((run) => [run.name, run.conclusion]);
const botCommentsOn = (h: AppHarness, number: number) =>
  h.fake
    .repo(OWNER, REPO)
    .comments.filter((comment) => comment.issue === number && comment.user === APP_BOT)
    .map((comment) => comment.body);

async function until(what: string, test: () => Promise<boolean> | boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

/** A review webhook (the review already exists on the fake). */
async function deliverReview(
  h: AppHarness,
  pull: { number: number; head: string },
  user: string,
  state: string,
  id: number,
  body = '',
) {
  const payload = example('pull_request_review', (candidate) => candidate.action === 'submitted') as unknown as Record<
    string,
    unknown
  >;
  const pullRequest = {
    ...(payload.pull_request as Record<string, unknown>),
    number: pull.number,
    head: { ...(payload.pull_request as { head: object }).head, ref: pull.head },
  };
  const reviewer = {
    ...(payload.sender as Record<string, unknown>),
    login: user,
    type: user.endsWith('[bot]') ? 'Bot' : 'User',
  };
  await h.deliver('pull_request_review', {
    ...payload,
    pull_request: pullRequest,
    review: { ...(payload.review as Record<string, unknown>), id, state: state.toLowerCase(), body, user: reviewer },
    sender: reviewer,
  });
}

async function review(
  h: AppHarness,
  pull: { number: number; head: string },
  user: string,
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED',
  comments: Array<{ path: string; line: number; body: string }> = [],
  body = '',
) {
  const added = await h.fake.addReview(OWNER, REPO, pull.number, { user, state, body, comments });
  await deliverReview(h, pull, user, state, added.id, body);
  await h.settle();
  return added;
}

async function ciFinished(h: AppHarness, pull: { number: number }, headSha: string, conclusion: 'success' | 'failure') {
  const id = h.fake.addCheckRun(OWNER, REPO, {
    name: 'ci/tests',
    headSha,
    status: 'completed',
    conclusion,
    appSlug: 'github-actions',
    output: { title: conclusion, summary: conclusion },
    log: 'not ok 1\n',
  });
  const payload = example('check_run', (candidate) => candidate.action === 'completed') as unknown as Record<
    string,
    unknown
  >;
  const checkRun = {
    ...(payload.check_run as Record<string, unknown>),
    id,
    name: 'ci/tests',
    head_sha: headSha,
    status: 'completed',
    conclusion,
    pull_requests: [
      {
        number: pull.number,
        id: pull.number,
        url: '',
        head: { ref: 'x', sha: headSha, repo: {} },
        base: { ref: 'main', sha: headSha, repo: {} },
      },
    ],
  };
  await h.deliver('check_run', { ...payload, check_run: checkRun });
  await h.settle();
}

describe('fix attempts in the GitHub App: races, ended runs and edge cases', () => {
  it('a red CI check on a PR of a cancelled run starts no agent: neither a fix nor the cancelled ones', async () => {
    const { h, brain } = await start({
      agents: {
        'First part': write('one.txt', 'one\n', 'Wrote one.txt.'),
        // The second agent is slow, so `/orchestrate cancel` catches it mid-run.
        'Second part': write('two.txt', 'two\n', 'Wrote two.txt.', { delayMs: 4_000 }),
      },
      fixes: { 'First part': write('one.txt', 'ONE\n', 'Upper-cased.') },
    });
    await h.comment('/orchestrate Write two files');
    const [runId] = await (async () => {
      await until('the run', async () => (await h.app.store.listRuns()).length === 1);
      return (await h.app.store.listRuns()).map((run) => run.id);
    })();
    await until(
      'PR one open and validated',
      async () => (await h.app.store.getSubtask(runId!, 'one'))?.state === 'succeeded',
    );
    await h.comment('/orchestrate cancel');
    await h.settle();
    expect((await h.app.store.getRun(runId!))?.state).toBe('cancelled');
    expect((await h.app.store.getSubtask(runId!, 'two'))?.state).toBe('cancelled');
    const secondAgentCalls = brain.requestsFor('Second part');

    // Repository CI goes red on PR one after the run was cancelled (fixOnRedCheck defaults on).
    const [first] = pulls(h);
    await ciFinished(h, first!, await headOf(h, first!.head), 'failure');

    expect((await h.app.store.getRun(runId!))?.state).not.toBe('running');
    expect(brain.requestsFor('Second part'), 'the cancelled agent was started again').toBe(secondAgentCalls);
    expect(pulls(h).length, 'a PR for the cancelled subtask was opened').toBe(1);
  }, 60_000);

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
    const fake = h.fake as unknown as { route: (...args: unknown[]) => Promise<unknown> };
    const route = fake.route.bind(h.fake);
    let fired = false;
    fake.route = async (...args: unknown[]) => {
      const url = args[1] as URL;
      if (!fired && url.pathname.endsWith(`/reviews/${a.id}/comments`)) {
        fired = true;
        await deliverReview(h, first!, 'maintainer', 'CHANGES_REQUESTED', b.id);
        await until('review B queued', async () =>
          ((await h.app.store.getSubtask(runId, 'one'))?.fixRequests ?? []).some(
            (request) => request.kind === 'review' && request.reviewId === b.id,
          ),
        );
      }
      return route(...args);
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

  it('after "needs a person" ends the run, a person\'s push is validated, as the comment promises', async () => {
    const config = 'validate:\n  - node check.cjs\nmaxFixAttempts: 1\n';
    // Green on the base; red once one.txt exists without ok.txt.
    const files = {
      'check.cjs':
        "const fs = require('fs');\nprocess.exit(fs.existsSync('one.txt') && !fs.existsSync('ok.txt') ? 1 : 0);\n",
    };
    const { h } = await start(
      {
        plan: [{ id: 'one', title: 'First part', writeScope: ['one.txt', 'ok.txt'] }],
        agents: { 'First part': write('one.txt', 'one\n', 'Wrote one.txt.') },
        fixes: { 'First part': write('one.txt', 'ONE\n', 'Tried.') },
      },
      config,
      files,
    );
    await h.comment('/orchestrate Write a file');
    await h.settle();
    const runId = (await h.app.store.listRuns())[0]!.id;
    const run = await h.app.store.getRun(runId);
    const record = await h.app.store.getSubtask(runId, 'one');
    expect(run?.state).toBe('failed');
    expect(record?.needsHuman).toBeDefined();
    const [pull] = pulls(h);
    const comments = botCommentsOn(h, pull!.number);
    expect(
      comments.some((body) =>
        body.includes('Push a fix to this branch yourself: Fanout validates it again and merges it when it is green'),
      ),
    ).toBe(true);

    // A person does exactly that.
    const checkout = join(await tempDir('fanout-person-'), 'checkout');
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', ...args], { cwd: checkout })
      ).stdout.trim();
    await exec('git', ['clone', '-q', '--branch', pull!.head, h.fake.repo(OWNER, REPO).dir, checkout]);
    const before = await git('rev-parse', 'HEAD');
    await writeFile(join(checkout, 'ok.txt'), 'ok\n');
    await git('add', 'ok.txt');
    await git('commit', '-qm', 'Add ok.txt');
    await git('push', '-q', 'origin', `HEAD:${pull!.head}`);
    const pushed = await git('rev-parse', 'HEAD');
    const payload = example('pull_request', (candidate) => candidate.action === 'synchronize') as unknown as Record<
      string,
      unknown
    >;
    const person = { ...(payload.sender as Record<string, unknown>), login: 'maintainer', type: 'User' };
    const pullRequest = {
      ...(payload.pull_request as Record<string, unknown>),
      number: pull!.number,
      head: { ...(payload.pull_request as { head: object }).head, ref: pull!.head, sha: pushed },
    };
    await h.deliver('pull_request', {
      ...payload,
      number: pull!.number,
      after: pushed,
      before,
      pull_request: pullRequest,
      sender: person,
    });
    await h.settle();
    expect(checksOn(h, pushed), "Fanout validated the person's push").toEqual(
      expect.arrayContaining([['fanout/validate', 'success']]),
    );
    expect(h.fake.repo(OWNER, REPO).pulls.get(pull!.number)!.merged, 'and merged it').toBe(true);
    expect((await h.app.store.getRun(runId))?.state).toBe('succeeded');
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
    const payload = example('issue_comment', (candidate) => candidate.action === 'created') as unknown as Record<
      string,
      unknown
    >;
    const user = { ...(payload.sender as Record<string, unknown>), login: 'maintainer', type: 'User' };
    const id = 8_000_002;
    const now = new Date().toISOString();
    const body = '/fanout fix once more';
    h.fake
      .repo(OWNER, REPO)
      .comments.push({ id, issue: first!.number, body, user: 'maintainer', createdAt: now, updatedAt: now });
    const issue = { ...(payload.issue as Record<string, unknown>), number: first!.number, pull_request: { url: '' } };
    await h.deliver('issue_comment', {
      ...payload,
      issue,
      comment: { ...(payload.comment as Record<string, unknown>), id, body, user, performed_via_github_app: null },
      sender: user,
    });
    await h.settle();
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

  it('a run that ended partial is reopened by a review; after the fix merges it ends succeeded', async () => {
    const config = 'validate:\n  - node check.cjs\nfixOnRedCheck: false\n';
    const files = {
      'check.cjs':
        "const fs = require('fs');\nprocess.exit(fs.existsSync('one.txt') && !fs.existsSync('ok.txt') ? 1 : 0);\n",
    };
    const { h } = await start(
      {
        plan: [
          { id: 'one', title: 'First part', writeScope: ['one.txt', 'ok.txt'] },
          { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
        ],
        agents: {
          'First part': write('one.txt', 'one\n', 'Wrote one.txt.'),
          'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
        },
        fixes: { 'First part': write('ok.txt', 'ok\n', 'Added ok.txt.') },
      },
      config,
      files,
    );
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const runId = (await h.app.store.listRuns())[0]!.id;
    expect((await h.app.store.getRun(runId))?.state).toBe('partial');
    const [first] = pulls(h);
    await review(h, first!, 'maintainer', 'CHANGES_REQUESTED', [], 'Make validation pass.');
    await review(h, first!, 'maintainer', 'APPROVED');
    const run = await h.app.store.getRun(runId);
    expect(h.fake.repo(OWNER, REPO).pulls.get(first!.number)!.merged).toBe(true);
    expect(run?.state).toBe('succeeded');
  }, 60_000);
});
