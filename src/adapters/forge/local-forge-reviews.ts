import { ForgeError } from '../../domain/errors.js';
import type { PullRequestReadiness, ReviewFeedback } from '../../ports/forge.js';
import type { LocalCheck, LocalPullRequest, LocalReview } from './local-forge-merge.js';

/** A review as `fanout approve` submits it (`line` null: the whole file). */
export interface ReviewRequest {
  by: string;
  state: LocalReview['state'];
  body?: string;
  comments?: ReadonlyArray<{ path: string; line: number | null; body: string }>;
  /** The head the reviewer saw (default: the branch's head now); the review counts for it only. */
  headSha?: string;
}

/** The record with `review` added on `head`, and the new review's id. */
export function withReview(
  record: LocalPullRequest,
  review: ReviewRequest,
  head: string,
): { record: LocalPullRequest; id: number } {
  const id = Math.max(0, ...record.reviews.map((earlier) => earlier.id)) + 1;
  let commentId = Math.max(0, ...record.reviews.flatMap((earlier) => earlier.comments.map((comment) => comment.id)));
  const comments = (review.comments ?? []).map((comment) => ({
    id: (commentId += 1),
    path: comment.path,
    line: comment.line,
    body: comment.body,
  }));
  const recorded: LocalReview = {
    id,
    by: review.by,
    state: review.state,
    headSha: head,
    at: new Date().toISOString(),
    body: review.body ?? '',
    comments,
  };
  // Reviewing answers a request for review, as on GitHub.
  return {
    record: {
      ...record,
      reviews: [...record.reviews, recorded],
      requestedReviewers: record.requestedReviewers.filter((login) => login !== review.by),
    },
    id,
  };
}

/** Review `reviewId` of the record as the port reports it; refused when there is none. */
export function feedbackOf(record: LocalPullRequest, reviewId: number): ReviewFeedback {
  const review = record.reviews.find((candidate) => candidate.id === reviewId);
  if (!review) throw new ForgeError('forge-refused', `No review ${reviewId} on local pull request #${record.number}.`);
  return {
    reviewer: review.by,
    state: review.state,
    body: review.body,
    comments: review.comments.map(({ id, path, line, body }) => ({ id, path, line, body })),
  };
}

/** True when one of the record's reviews has an inline comment `commentId`. */
export function hasReviewComment(record: LocalPullRequest, commentId: number): boolean {
  return record.reviews.some((review) => review.comments.some((comment) => comment.id === commentId));
}

/** The checks on `head` and the standing reviews, as GitHub shows a pull request's readiness (no CI locally). */
export function readinessOf(record: LocalPullRequest, head: string): PullRequestReadiness {
  // The latest run of each check on the current head, as GitHub shows it.
  const latest = new Map<string, LocalCheck>();
  for (const check of record.checks.filter((candidate) => candidate.headSha === head)) latest.set(check.name, check);
  const reviews = new Map<string, LocalReview>();
  // A comment-only review leaves an earlier approval or request for changes standing, as on GitHub.
  for (const review of record.reviews) if (review.state !== 'commented') reviews.set(review.by, review);
  return {
    checks: [...latest.values()].map((check) => ({
      name: check.name,
      state: check.status !== 'completed' ? 'pending' : check.conclusion === 'failure' ? 'failure' : 'success',
    })),
    // Each approval with the head it was given on (`fanout approve` records the head it approved).
    approvals: [...reviews.values()]
      .filter((review) => review.state === 'approved')
      .map((review) => ({ by: review.by, headSha: review.headSha })),
    changesRequestedBy: [...reviews.values()]
      .filter((review) => review.state === 'changes_requested')
      .map((review) => review.by),
  };
}
