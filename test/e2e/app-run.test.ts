import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { appHarness, OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import type { RecordedCall } from '../support/fake-github/state.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { fakeGitHubOctokit } from '../support/fake-github/octokit.js';
import { tempDir } from '../support/temp-dir.js';
import { example } from '../support/webhook-examples.js';

const exec = promisify(execFile);
const PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
const writes = (path: string): ScriptedReply[] => [
  call('write_file', { path, content: `${path}\n` }),
  finish(`Wrote ${path}.`),
];
const loop: ScriptedReply[] = Array.from({ length: 6 }, () => call('list_directory', { path: '.' }));
const MANUAL = { '.github/fanout.yml': 'validate:\n  - node --test\napproval: manual\n' };

let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(agents: Record<string, ScriptedReply[]>, files: Record<string, string> = {}): Promise<AppHarness> {
  harness = await appHarness({ script: scriptedBrain({ plan: PLAN, agents }).reply, files });
  return harness;
}

/** A file on a branch of the fake's repository, or null. */
async function fileOn(h: AppHarness, ref: string, path: string): Promise<string | null> {
  return exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'show', `${ref}:${path}`]).then(
    ({ stdout }) => stdout,
    () => null,
  );
}

/** Calls that change something on GitHub, as `METHOD path`. */
function changes(calls: readonly RecordedCall[]): string[] {
  return calls
    .filter((entry) => entry.method !== 'GET' && !entry.path.endsWith('/access_tokens'))
    .map((entry) => `${entry.method} ${entry.path}`);
}

/** The run's pull requests in plan order (agents open them in any order). */
function pullRequests(h: AppHarness) {
  return [...h.fake.repo(OWNER, REPO).pulls.values()].sort((a, b) => a.head.localeCompare(b.head));
}

describe('the GitHub App, from /orchestrate to merged pull requests', () => {
  it('plans, opens a PR per subtask with its checks, merges them in plan order, and keeps one status comment', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') });

    expect((await h.comment('/orchestrate Write two files')).status).toBe(200);
    await h.settle();

    expect(await fileOn(h, 'main', 'one.txt')).toBe('one.txt\n');
    expect(await fileOn(h, 'main', 'two.txt')).toBe('two.txt\n');
    const pulls = pullRequests(h);
    expect(pulls.map((pull) => [pull.head.replace(/\/\d{8}-\d{6}-[0-9a-f]{4}\//, '/RUN/'), pull.merged])).toEqual([
      ['fanout/RUN/one', true],
      ['fanout/RUN/two', true],
    ]);
    expect(pulls[0]!.body).toContain(`Part of #${h.issue}`);
    expect(pulls[0]!.body).toContain('`one.txt`');

    // One status comment, edited in place to the final report.
    const comments = h.issueComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('✅ Done: everything merged');
    expect(comments[0]).toMatch(/\| 1 \| `one` First part \| builtin \| merged [0-9a-f]{8} \| #\d+ \| ✅ \|/);

    // Every change Fanout made on GitHub, once: no PR, check, comment or merge twice.
    const changed = changes(h.fake.calls);
    // (Probot's REST calls and git each ask for an installation token once: not a change.)
    const bodies = h.fake.calls
      .filter((entry) => entry.method !== 'GET' && !entry.path.endsWith('/access_tokens'))
      .map((entry) => `${entry.method} ${entry.path} ${JSON.stringify(entry.body)}`);
    expect(bodies.filter((body, index) => bodies.indexOf(body) !== index)).toEqual([]);
    const count = (pattern: RegExp) => changed.filter((entry) => pattern.test(entry)).length;
    expect(count(/^POST \/repos\/octo\/hello\/issues\/comments\/\d+\/reactions$/)).toBe(1);
    expect(count(new RegExp(`^POST /repos/octo/hello/issues/${h.issue}/comments$`))).toBe(1);
    expect(count(/^POST \/repos\/octo\/hello\/pulls$/)).toBe(2);
    expect(count(/^PUT \/repos\/octo\/hello\/pulls\/\d+\/merge$/)).toBe(2);
    // fanout/scope and fanout/validate on each head, and fanout/validate again on the second PR after it took the first merge in.
    expect(count(/^POST \/repos\/octo\/hello\/check-runs$/)).toBe(5);
    expect(count(/^PATCH \/repos\/octo\/hello\/check-runs\/\d+$/)).toBe(5);
    expect(changed.filter((entry) => !/reactions|comments|pulls|merge|check-runs|git\//.test(entry))).toEqual([]);
  });

  it('refuses a user without write access politely, and starts nothing', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') });
    await h.comment('/orchestrate Write two files', 'reader');
    await h.settle();
    expect(h.issueComments()).toEqual([
      expect.stringContaining('Sorry @reader, only people with write access to this repository can run Fanout.'),
    ]);
    expect(pullRequests(h)).toEqual([]);
    expect(await h.app.store.listRuns()).toEqual([]);
  });

  it('reports a partial failure on the issue: what failed, why, and how to retry', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': loop });
    await h.comment('/orchestrate Write two files');
    await h.settle();
    expect(await fileOn(h, 'main', 'one.txt')).toBe('one.txt\n');
    const [status, report] = h.issueComments();
    expect(status).toContain('⚠️ Done, partly');
    expect(report).toContain('ended **partial**: 1 of 2 subtask(s) merged');
    expect(report).toMatch(/`two` looping: made the same list_directory call 4 times in a row/);
    expect(report).toContain('`/orchestrate retry two`');
  });

  it('takes a PR out of the queue when its head moved at merge time (409), says why on the PR, and merges the rest', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') });
    h.fake.failNext({
      method: 'PUT',
      path: /\/pulls\/\d+\/merge$/,
      status: 409,
      body: { message: 'Head branch was modified. Review and try the merge again.' },
    });
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first, second] = pullRequests(h);
    expect([first!.merged, second!.merged]).toEqual([false, true]);
    const onFirst = h.fake
      .repo(OWNER, REPO)
      .comments.filter((comment) => comment.issue === first!.number)
      .map((comment) => comment.body);
    expect(onFirst).toEqual([
      expect.stringContaining(
        'Fanout took this pull request out of its merge queue: GitHub: Head branch was modified. Review and try the merge again.\n',
      ),
    ]);
    expect(h.issueComments()[1]).toMatch(/`one` head-moved/);
  });
});

describe('the GitHub App: reviews and the repository CI', () => {
  async function waitingForReview(
    files: Record<string, string> = MANUAL,
  ): Promise<{ h: AppHarness; numbers: number[] }> {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') }, files);
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const numbers = pullRequests(h).map((pull) => pull.number);
    expect(pullRequests(h).map((pull) => pull.merged)).toEqual([false, false]);
    expect(h.issueComments()[0]).toContain('waiting: waiting for an approving review (approval: manual)');
    return { h, numbers };
  }

  async function review(h: AppHarness, number: number, user: string) {
    await h.fake.addReview(OWNER, REPO, number, { user, state: 'APPROVED' });
    const payload = example(
      'pull_request_review',
      (candidate) => candidate.action === 'submitted',
    ) as unknown as Record<string, unknown>;
    const pull = pullRequests(h).find((candidate) => candidate.number === number)!;
    const pullRequest = {
      ...(payload.pull_request as Record<string, unknown>),
      number,
      head: { ...(payload.pull_request as { head: object }).head, ref: pull.head },
    };
    const reviewer = { ...(payload.sender as Record<string, unknown>), login: user, type: 'User' };
    await h.deliver('pull_request_review', {
      ...payload,
      pull_request: pullRequest,
      review: { ...(payload.review as Record<string, unknown>), state: 'approved', user: reviewer },
      sender: reviewer,
    });
    await h.settle();
  }

  it('under approval: manual waits for a review by someone with write access, then merges in plan order', async () => {
    const { h, numbers } = await waitingForReview();
    await review(h, numbers[0]!, 'reader');
    expect(pullRequests(h).map((pull) => pull.merged)).toEqual([false, false]);
    await review(h, numbers[0]!, 'maintainer');
    expect(pullRequests(h).map((pull) => pull.merged)).toEqual([true, false]);
    await review(h, numbers[1]!, 'maintainer');
    expect(pullRequests(h).map((pull) => pull.merged)).toEqual([true, true]);
    expect(h.issueComments()[0]).toContain('✅ Done: everything merged');
  });

  it('leaves a PR whose own CI check is red unmerged, and says so (fixOnRedCheck: false)', async () => {
    const { h, numbers } = await waitingForReview({
      '.github/fanout.yml': 'validate:\n  - node --test\napproval: manual\nfixOnRedCheck: false\n',
    });
    const head = (
      await exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'rev-parse', pullRequests(h)[0]!.head])
    ).stdout.trim();
    h.fake.addCheckRun(OWNER, REPO, {
      name: 'ci/tests',
      headSha: head,
      status: 'completed',
      conclusion: 'failure',
      appId: 4242,
    });
    await review(h, numbers[0]!, 'maintainer');
    expect(pullRequests(h)[0]!.merged).toBe(false);
    const onPr = h.fake
      .repo(OWNER, REPO)
      .comments.filter((comment) => comment.issue === numbers[0])
      .map((comment) => comment.body);
    expect(onPr).toEqual([expect.stringContaining('checks failed on the head: ci/tests')]);
  });
});

describe('the GitHub App: plan review, redeliveries, and what people do to the pull requests', () => {
  it('under plan: review posts the plan and starts agents only after /orchestrate approve', async () => {
    const h = await start(
      { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
      { '.github/fanout.yml': 'validate: []\nplan: review\n' },
    );
    await h.comment('/orchestrate Write two files');
    await h.settle();
    expect(pullRequests(h)).toEqual([]);
    expect(h.issueComments()[0]).toContain('⏸️ Waiting for plan approval');
    expect(h.issueComments()[0]).toContain('- `one`: `one.txt`');
    await h.comment('/orchestrate approve', 'reader');
    await h.settle();
    expect(pullRequests(h)).toEqual([]);
    await h.comment('/orchestrate approve');
    await h.settle();
    expect(pullRequests(h).map((pull) => pull.merged)).toEqual([true, true]);
  });

  it('starts one run for a delivery GitHub sends twice', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') });
    const first = await h.comment('/orchestrate Write two files');
    expect((await h.deliver('issue_comment', first.payload, { id: first.id })).status).toBe(200);
    await h.settle();
    expect(await h.app.store.listRuns()).toHaveLength(1);
    expect(pullRequests(h)).toHaveLength(2);
  });

  it("validates a person's push to an agent's branch again, and keeps a PR out whose new files leave the write scope", async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') }, MANUAL);
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const pull = pullRequests(h)[0]!;
    // A person edits README.md (outside `one.txt`) on the agent's branch and pushes.
    const checkout = join(await tempDir('fanout-person-'), 'checkout');
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', ...args], { cwd: checkout })
      ).stdout.trim();
    await exec('git', ['clone', '-q', '--branch', pull.head, h.fake.repo(OWNER, REPO).dir, checkout]);
    const head = await git('rev-parse', 'HEAD');
    await writeFile(join(checkout, 'README.md'), '# changed by a person\n');
    await git('commit', '-qam', 'Tweak the README');
    await git('push', '-q', 'origin', `HEAD:${pull.head}`);
    const pushed = await git('rev-parse', 'HEAD');
    const payload = example('pull_request', (candidate) => candidate.action === 'synchronize') as unknown as Record<
      string,
      unknown
    >;
    const person = { ...(payload.sender as Record<string, unknown>), login: 'pat', type: 'User' };
    const pullRequest = {
      ...(payload.pull_request as Record<string, unknown>),
      number: pull.number,
      head: { ...(payload.pull_request as { head: object }).head, ref: pull.head, sha: pushed },
    };
    await h.deliver('pull_request', {
      ...payload,
      number: pull.number,
      after: pushed,
      before: head,
      pull_request: pullRequest,
      sender: person,
    });
    await h.settle();

    const checks = h.fake
      .repo(OWNER, REPO)
      .checkRuns.filter((run) => run.headSha === pushed)
      .map((run) => [run.name, run.conclusion]);
    expect(checks).toEqual(
      expect.arrayContaining([
        ['fanout/scope', 'failure'],
        ['fanout/validate', 'success'],
      ]),
    );
    await h.fake.addReview(OWNER, REPO, pull.number, { user: 'maintainer', state: 'APPROVED' });
    const review = example('pull_request_review', (candidate) => candidate.action === 'submitted') as unknown as Record<
      string,
      unknown
    >;
    await h.deliver('pull_request_review', {
      ...review,
      pull_request: { ...pullRequest },
      review: { ...(review.review as object), state: 'approved' },
    });
    await h.settle();
    expect(pullRequests(h)[0]!.merged).toBe(false);
    const onPr = h.fake
      .repo(OWNER, REPO)
      .comments.filter((comment) => comment.issue === pull.number)
      .map((comment) => comment.body);
    expect(onPr).toEqual([expect.stringContaining('checks failed on the head: fanout/scope')]);
  });

  it('records a PR a person merged as merged, and goes on with the next', async () => {
    const h = await start({ 'First part': writes('one.txt'), 'Second part': writes('two.txt') }, MANUAL);
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const [first, second] = pullRequests(h);
    const person = await fakeGitHubOctokit(h.fake);
    const head = (
      await exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'rev-parse', first!.head])
    ).stdout.trim();
    await person.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: first!.number, sha: head });
    const payload = example('pull_request', (candidate) => candidate.action === 'closed') as unknown as Record<
      string,
      unknown
    >;
    const pullRequest = {
      ...(payload.pull_request as Record<string, unknown>),
      number: first!.number,
      merged: true,
      head: { ...(payload.pull_request as { head: object }).head, ref: first!.head },
    };
    await h.deliver('pull_request', { ...payload, number: first!.number, pull_request: pullRequest });
    await h.settle();
    const [status] = h.issueComments();
    expect(status).toMatch(/\| 1 \| `one` First part \| builtin \| merged [0-9a-f]{8} \|/);
    expect(status).toMatch(/\| 2 \| `two` Second part \| builtin \| waiting: waiting for an approving review/);
    expect(second!.merged).toBe(false);
  });

  it('answers help, unknown commands and unknown agents with what it knows; runs --agent NAME over the config, retries included', async () => {
    let fixed = false;
    const brain = scriptedBrain({ plan: PLAN, agents: { 'First part': writes('one.txt'), 'Second part': loop } });
    const good = scriptedBrain({
      plan: PLAN,
      agents: { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
    });
    harness = await appHarness({
      script: (request) => (fixed ? good.reply(request) : brain.reply(request)),
      // A backend this run does not use: --agent chooses another for the run.
      files: { '.github/fanout.yml': 'agent: codex\n' },
    });
    const h = harness;
    await h.comment('/orchestrate frobnicate');
    await h.comment('/orchestrate --agent gemini Write two files');
    await h.comment('/orchestrate --agent builtin Write two files');
    await h.settle();
    const [unknownCommand, unknownAgent] = h.issueComments();
    expect(unknownCommand).toContain('I do not know `/orchestrate frobnicate`');
    expect(unknownCommand).toContain('`/orchestrate retry <subtask>`');
    expect(unknownAgent).toContain('Fanout has no agent backend `gemini`; it knows `builtin`, `claude-code`, `codex`');
    expect(unknownAgent).toContain('`/orchestrate --agent NAME <task>`');
    expect(await fileOn(h, 'main', 'two.txt')).toBeNull();

    fixed = true;
    await h.comment('/orchestrate retry two');
    await h.settle();
    expect(await fileOn(h, 'main', 'two.txt')).toBe('two.txt\n');
    const comments = h.issueComments();
    expect(comments.some((comment) => comment.includes('Retrying `two` (asked by @maintainer)'))).toBe(true);
    const status = comments[2]!;
    expect(status).toContain('✅ Done: everything merged');
    expect(status).toMatch(/\| 2 \| `two` Second part \| builtin \| merged [0-9a-f]{8} \|/);
    expect(status).toContain('Agents: builtin, chosen for this run over codex from .github/fanout.yml.');
  });
});
