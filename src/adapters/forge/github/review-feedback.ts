import { setTimeout as delay } from 'node:timers/promises';
import type { ReviewComment, ReviewFeedback } from '../../../ports/forge.js';
import { commentMarker } from './comments.js';
import type { RepositoryName } from './pull-requests.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError, mayHaveHappened } from './wrap-error.js';

const REPLY_ATTEMPTS = 3;
const REVIEW_STATES = new Set<ReviewFeedback['state']>(['approved', 'changes_requested', 'commented', 'dismissed']);

/** A review comment as the review-comments endpoints give it (`line` absent or null when outdated). */
export interface ReviewCommentData {
  id: number | bigint;
  path: string;
  line?: number | null;
  body: string;
  in_reply_to_id?: number | null;
}

/** Our shape of a review comment: the head's line, null when GitHub has none (outdated or file-level). */
export function reviewComment(data: ReviewCommentData): ReviewComment {
  return {
    id: Number(data.id),
    path: data.path,
    line: data.line ?? null,
    body: data.body,
    ...(data.in_reply_to_id ? { inReplyTo: Number(data.in_reply_to_id) } : {}),
  };
}

/** GitHub's upper-case review state in our lower-case terms; a state we do not know reads as a comment. */
export function reviewState(state: string): ReviewFeedback['state'] {
  const lower = state.toLowerCase() as ReviewFeedback['state'];
  return REVIEW_STATES.has(lower) ? lower : 'commented';
}

/** A review's state, text, reviewer and inline comments. */
export async function reviewFeedback(
  octokit: GitHubOctokit,
  name: RepositoryName,
  pullRequest: number,
  reviewId: number,
): Promise<ReviewFeedback> {
  const call = `read review ${reviewId} of #${pullRequest}`;
  try {
    const [{ data: review }, comments] = await Promise.all([
      octokit.rest.pulls.getReview({ ...name, pull_number: pullRequest, review_id: reviewId }),
      octokit.paginate(octokit.rest.pulls.listCommentsForReview, {
        ...name,
        pull_number: pullRequest,
        review_id: reviewId,
        per_page: 100,
      }),
    ]);
    return {
      reviewer: review.user?.login ?? '',
      state: reviewState(review.state),
      // The types say string; GitHub sends null for a review without text.
      body: (review.body as string | null) ?? '',
      comments: comments.map(reviewComment),
    };
  } catch (error) {
    throw forgeError(call, error);
  }
}

async function findReply(
  octokit: GitHubOctokit,
  name: RepositoryName,
  pullRequest: number,
  marker: string,
  since: string,
): Promise<boolean> {
  try {
    const comments = await octokit.paginate(octokit.rest.pulls.listReviewComments, {
      ...name,
      pull_number: pullRequest,
      since,
      per_page: 100,
    });
    return comments.some((comment) => comment.body.includes(marker));
  } catch (error) {
    throw forgeError(`list review comments on #${pullRequest}`, error);
  }
}

/**
 * Replies in a review comment's thread, with a hidden marker: after a 5xx the reply may exist, so
 * the PR's review comments are searched for the marker before the reply is posted again.
 */
export async function replyToReviewComment(
  octokit: GitHubOctokit,
  name: RepositoryName,
  pullRequest: number,
  commentId: number,
  body: string,
  retryDelayMs: number,
): Promise<void> {
  const marker = commentMarker();
  const since = new Date(Date.now() - 10 * 60_000).toISOString();
  for (let attempt = 1; ; attempt += 1) {
    try {
      await octokit.rest.pulls.createReplyForReviewComment({
        ...name,
        pull_number: pullRequest,
        comment_id: commentId,
        body: `${body}\n\n${marker}`,
        request: { retries: 0 },
      });
      return;
    } catch (error) {
      if (!mayHaveHappened(error) || attempt >= REPLY_ATTEMPTS)
        throw forgeError(`reply to review comment ${commentId} on #${pullRequest}`, error);
      if (await findReply(octokit, name, pullRequest, marker, since)) return;
      await delay(retryDelayMs * attempt);
    }
  }
}
