import {
  type Answer,
  type RepoRoute,
  type RouteContext,
  json,
  notFound,
  page,
  stringField,
  validationFailed,
} from './router.js';
import { headOf, pullJson } from './routes-pulls.js';
import type { FakePull, FakeReview, FakeReviewComment } from './state.js';

export function reviewJson(review: FakeReview): Record<string, unknown> {
  // GitHub sends null, not '', for a review submitted without text.
  return {
    id: review.id,
    user: { login: review.user, type: 'User' },
    state: review.state,
    commit_id: review.commitId,
    submitted_at: review.submittedAt,
    body: review.body === '' ? null : review.body,
  };
}

/** A review comment in the shape of GitHub's `review-comment` schema. */
export function reviewCommentJson(context: RouteContext, comment: FakeReviewComment): Record<string, unknown> {
  const { repo, baseUrl } = context;
  const pullUrl = `${baseUrl}/repos/${repo.owner}/${repo.name}/pulls/${comment.pull}`;
  return {
    id: comment.id,
    pull_request_review_id: comment.reviewId,
    path: comment.path,
    diff_hunk: '',
    position: comment.line,
    original_position: comment.line,
    commit_id: comment.commitId,
    original_commit_id: comment.commitId,
    ...(comment.inReplyTo !== undefined ? { in_reply_to_id: comment.inReplyTo } : {}),
    user: { login: comment.user, type: comment.user.endsWith('[bot]') ? 'Bot' : 'User' },
    body: comment.body,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    html_url: `${baseUrl}/${repo.owner}/${repo.name}/pull/${comment.pull}#discussion_r${comment.id}`,
    pull_request_url: pullUrl,
    author_association: 'COLLABORATOR',
    line: comment.line,
    original_line: comment.line,
    side: 'RIGHT',
    start_line: null,
    subject_type: comment.line === null ? 'file' : 'line',
  };
}

function pullOf(context: RouteContext): FakePull | undefined {
  return context.repo.pulls.get(Number(context.params[0]));
}

function reviewOf(context: RouteContext): FakeReview | undefined {
  const pull = Number(context.params[0]);
  return context.repo.reviews.find((review) => review.pull === pull && review.id === Number(context.params[1]));
}

/**
 * A reply in a review comment's thread: GitHub threads it under the thread's first comment, on the
 * same path and line, and submits it as a review of its own (state COMMENTED).
 */
async function reply(context: RouteContext): Promise<Answer> {
  const { repo } = context;
  const pull = pullOf(context);
  const parent = repo.reviewComments.find(
    (comment) => comment.pull === pull?.number && comment.id === Number(context.params[1]),
  );
  if (!pull || !parent) return notFound(`review comment ${context.params[1]} on pull request ${context.params[0]}`);
  const body = stringField(context.body, 'body');
  if (body === undefined)
    return validationFailed([{ resource: 'PullRequestReviewComment', field: 'body', code: 'missing_field' }]);
  const now = new Date().toISOString();
  const review: FakeReview = {
    id: context.nextId(),
    pull: pull.number,
    user: context.actor,
    state: 'COMMENTED',
    body: '',
    commitId: await headOf(repo, pull),
    submittedAt: now,
  };
  repo.reviews.push(review);
  const comment: FakeReviewComment = {
    id: context.nextId(),
    pull: pull.number,
    reviewId: review.id,
    path: parent.path,
    line: parent.line,
    body,
    user: context.actor,
    commitId: parent.commitId,
    inReplyTo: parent.inReplyTo ?? parent.id,
    createdAt: now,
    updatedAt: now,
  };
  repo.reviewComments.push(comment);
  return json(201, reviewCommentJson(context, comment));
}

/** Asks for reviews; refused whole (422) when one reviewer is the author or not a collaborator. */
async function requestReviewers(context: RouteContext): Promise<Answer> {
  const { repo } = context;
  const pull = pullOf(context);
  if (!pull) return notFound(`pull request ${context.params[0]}`);
  const reviewers = context.body.reviewers;
  if (!Array.isArray(reviewers) || !reviewers.every((login): login is string => typeof login === 'string')) {
    return validationFailed([{ resource: 'PullRequest', field: 'reviewers', code: 'invalid' }]);
  }
  if (reviewers.includes(pull.user))
    return json(422, {
      message: 'Review cannot be requested from pull request author.',
      documentation_url: 'https://docs.github.com/rest',
    });
  const strangers = reviewers.filter((login) => (repo.roles.get(login) ?? 'none') === 'none');
  if (strangers.length > 0) {
    return json(422, {
      message: `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${repo.owner}/${repo.name} repository.`,
      documentation_url: 'https://docs.github.com/rest',
    });
  }
  pull.requestedReviewers = [...new Set([...pull.requestedReviewers, ...reviewers])];
  return json(201, await pullJson(context, pull));
}

export const reviewRoutes: RepoRoute[] = [
  {
    method: 'GET',
    pattern: /^\/pulls\/(\d+)\/reviews$/,
    handler: (context) => {
      const number = Number(context.params[0]);
      if (!context.repo.pulls.has(number)) return notFound(`pull request ${number}`);
      return page(context, context.repo.reviews.filter((review) => review.pull === number).map(reviewJson));
    },
  },
  {
    method: 'GET',
    pattern: /^\/pulls\/(\d+)\/reviews\/(\d+)$/,
    handler: (context) => {
      const review = reviewOf(context);
      return review
        ? json(200, reviewJson(review))
        : notFound(`review ${context.params[1]} on pull request ${context.params[0]}`);
    },
  },
  {
    method: 'GET',
    pattern: /^\/pulls\/(\d+)\/reviews\/(\d+)\/comments$/,
    handler: (context) => {
      const review = reviewOf(context);
      if (!review) return notFound(`review ${context.params[1]} on pull request ${context.params[0]}`);
      return page(
        context,
        context.repo.reviewComments
          .filter((comment) => comment.reviewId === review.id)
          .map((comment) => reviewCommentJson(context, comment)),
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/pulls\/(\d+)\/comments$/,
    handler: (context) => {
      const pull = pullOf(context);
      if (!pull) return notFound(`pull request ${context.params[0]}`);
      const since = context.query.get('since');
      const comments = context.repo.reviewComments.filter(
        (comment) => comment.pull === pull.number && (!since || comment.updatedAt >= since),
      );
      return page(
        context,
        comments.map((comment) => reviewCommentJson(context, comment)),
      );
    },
  },
  { method: 'POST', pattern: /^\/pulls\/(\d+)\/comments\/(\d+)\/replies$/, handler: reply },
  { method: 'POST', pattern: /^\/pulls\/(\d+)\/requested_reviewers$/, handler: requestReviewers },
];
