import type { Context } from 'probot';
import type { PullRequestEvent } from '../domain/command.js';

/** Fanout's agents push to `fanout/<run>/<subtask>`; other pull requests are not its business. */
const FANOUT_BRANCH = 'fanout/';
const REVIEW_STATES = ['approved', 'changes_requested', 'commented', 'dismissed'] as const;
// Conclusions that mean the check found something wrong (not cancelled or skipped by a person).
const RED_CONCLUSIONS: ReadonlySet<string> = new Set(['failure', 'timed_out']);

type Payload<
  Name extends
    | 'pull_request_review.submitted'
    | 'check_run.completed'
    | 'check_suite.completed'
    | 'status'
    | 'pull_request.closed'
    | 'pull_request.synchronize',
> = Context<Name>['payload'];

/** A review on one of Fanout's pull requests (webhooks spell the state in lowercase). */
export function reviewEvent(payload: Payload<'pull_request_review.submitted'>): PullRequestEvent | null {
  const { pull_request: pullRequest, review } = payload;
  if (!pullRequest.head.ref.startsWith(FANOUT_BRANCH)) return null;
  const state = REVIEW_STATES.find((candidate) => candidate === review.state.toLowerCase());
  if (!state || !review.user) return null;
  return {
    kind: 'review',
    prNumber: pullRequest.number,
    state,
    reviewer: review.user.login,
    reviewId: review.id,
    reviewerIsBot: review.user.type === 'Bot',
  };
}

/** A check run or suite finished on some head; the queue ignores heads it does not know. */
export function checksEvent(
  payload: Payload<'check_run.completed'> | Payload<'check_suite.completed'>,
): PullRequestEvent {
  const checks = 'check_run' in payload ? payload.check_run : payload.check_suite;
  return {
    kind: 'checks-completed',
    headSha: checks.head_sha,
    prNumbers: checks.pull_requests.map((pullRequest) => pullRequest.number),
    failed: RED_CONCLUSIONS.has(checks.conclusion ?? ''),
  };
}

/** A commit status changed on some commit. */
export function statusEvent(payload: Payload<'status'>): PullRequestEvent {
  return { kind: 'status', headSha: payload.sha, failed: payload.state === 'failure' || payload.state === 'error' };
}

/** One of Fanout's pull requests was closed, by a merge or not. */
export function closedEvent(payload: Payload<'pull_request.closed'>): PullRequestEvent | null {
  const { pull_request: pullRequest } = payload;
  if (!pullRequest.head.ref.startsWith(FANOUT_BRANCH)) return null;
  return { kind: 'closed', prNumber: pullRequest.number, merged: pullRequest.merged === true };
}

/**
 * Someone pushed to one of Fanout's pull requests. The pusher is Fanout when the sender is its bot
 * user, `<slug>[bot]` of type Bot: the login is known from the slug alone, while the bot user's id
 * (not the App id) would need an API call the intake must not make.
 */
export function pushedEvent(
  payload: Payload<'pull_request.synchronize'>,
  appSlug: string | undefined,
): PullRequestEvent | null {
  const { pull_request: pullRequest, sender } = payload;
  if (!pullRequest.head.ref.startsWith(FANOUT_BRANCH)) return null;
  const pusherIsFanout = appSlug !== undefined && sender.type === 'Bot' && sender.login === `${appSlug}[bot]`;
  return { kind: 'pushed', prNumber: pullRequest.number, headSha: payload.after, pusher: sender.login, pusherIsFanout };
}
