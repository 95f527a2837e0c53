import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from './agent-replies.js';
import { appHarness, OWNER, REPO, type AppHarness } from './app-harness.js';
import { APP_BOT } from './fake-github/state.js';
import { scriptedBrain, type BrainScript } from './scripted-brain.js';
import { example } from './webhook-examples.js';

const exec = promisify(execFile);

/** Two subtasks, one file each: the plan of the fix-attempt tests. */
export const FIX_PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
/** Validation on, and every PR waits for an approving review. */
export const MANUAL = 'validate:\n  - node --test\napproval: manual\n';

/** Starts the App on a repository whose `.github/fanout.yml` is `config`; the brain plans FIX_PLAN unless told otherwise. */
export async function fixApp(
  script: Omit<BrainScript, 'plan'> & { plan?: BrainScript['plan'] },
  config = MANUAL,
  files: Record<string, string> = {},
) {
  const brain = scriptedBrain({ plan: FIX_PLAN, ...script });
  const h = await appHarness({ script: brain.reply, files: { '.github/fanout.yml': config, ...files } });
  return { h, brain };
}

/** Waits until `test` holds: for a state the App reaches on its own, not for time. */
export async function until(what: string, test: () => Promise<boolean> | boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

/** An agent that writes one file and finishes. */
export function write(
  path: string,
  content: string,
  summary: string,
  extra: Partial<ScriptedReply> = {},
): ScriptedReply[] {
  return [call('write_file', { path, content }, extra), finish(summary)];
}

/** The fake repository's pull requests, in plan order (by branch). */
export function pulls(h: AppHarness) {
  return [...h.fake.repo(OWNER, REPO).pulls.values()].sort((a, b) => a.head.localeCompare(b.head));
}

/** Where a branch (or any ref) of the fake repository points. */
export async function headOf(h: AppHarness, ref: string): Promise<string> {
  return (await exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'rev-parse', ref])).stdout.trim();
}

/** A file at a ref of the fake repository, or null. */
export async function fileOn(h: AppHarness, ref: string, path: string): Promise<string | null> {
  return exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'show', `${ref}:${path}`]).then(
    ({ stdout }) => stdout,
    () => null,
  );
}

/** The check runs on a head, as [name, conclusion]. */
export function checksOn(h: AppHarness, sha: string) {
  return h.fake
    .repo(OWNER, REPO)
    .checkRuns.filter((run) => run.headSha === sha)
    .map((run) => [run.name, run.conclusion]);
}

/** Fanout's comments on an issue or pull request, oldest first. */
export function botCommentsOn(h: AppHarness, number: number): string[] {
  return h.fake
    .repo(OWNER, REPO)
    .comments.filter((comment) => comment.issue === number && comment.user === APP_BOT)
    .map((comment) => comment.body);
}

/** A review's webhook (the review already exists on the fake), not waited for. */
export async function deliverReview(
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

/** A person reviews on GitHub, the review's webhook arrives, and Fanout has done what it asks. */
export async function review(
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

/** The repository's CI finished a check run on a head, its webhook arrives, and Fanout has acted. */
export async function ciFinished(
  h: AppHarness,
  pull: { number: number },
  headSha: string,
  conclusion: 'success' | 'failure',
  details: { log?: string; annotations?: Array<{ path: string; line: number; message: string }> } = {},
) {
  const id = h.fake.addCheckRun(OWNER, REPO, {
    name: 'ci/tests',
    headSha,
    status: 'completed',
    conclusion,
    appSlug: 'github-actions',
    output: {
      title: conclusion === 'failure' ? 'Tests failed' : 'Tests passed',
      summary: conclusion === 'failure' ? '1 test failed' : 'All tests passed',
    },
    ...(details.annotations
      ? { annotations: details.annotations.map((annotation) => ({ ...annotation, level: 'failure' as const })) }
      : {}),
    log: details.log ?? (conclusion === 'failure' ? 'not ok 1\n' : ''),
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

/** A person comments on a pull request (the comment exists on the fake first), and Fanout has acted. */
export async function commentOnPullRequest(h: AppHarness, number: number, body: string, user = 'maintainer') {
  const payload = example('issue_comment', (candidate) => candidate.action === 'created') as unknown as Record<
    string,
    unknown
  >;
  const sender = { ...(payload.sender as Record<string, unknown>), login: user, type: 'User' };
  const id = 8_000_000 + Math.floor(Math.random() * 1_000_000);
  const now = new Date().toISOString();
  h.fake.repo(OWNER, REPO).comments.push({ id, issue: number, body, user, createdAt: now, updatedAt: now });
  const issue = {
    ...(payload.issue as Record<string, unknown>),
    number,
    pull_request: { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${number}` },
  };
  await h.deliver('issue_comment', {
    ...payload,
    issue,
    comment: {
      ...(payload.comment as Record<string, unknown>),
      id,
      body,
      user: sender,
      performed_via_github_app: null,
    },
    sender,
  });
  await h.settle();
}
