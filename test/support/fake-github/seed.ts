import { headOf } from './routes-pulls.js';
import {
  ACTIONS_APP_ID,
  type FakeAnnotation,
  type FakeCheckRun,
  type FakeRepo,
  type FakeReview,
  type FakeReviewComment,
} from './state.js';

/** A person's review as a test submits it (`line` null: on the whole file). */
export interface ReviewSeed {
  user: string;
  state: FakeReview['state'];
  commitId?: string;
  body?: string;
  comments?: ReadonlyArray<{ path: string; line: number | null; body: string }>;
}

/** A check run from another App as a test reports it. */
export interface CheckRunSeed {
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: string;
  appId?: number;
  appSlug?: string;
  output?: { title: string; summary: string; text?: string };
  annotations?: FakeAnnotation[];
  log?: string;
}

/** Stores a person's review and its inline comments on a PR; returns the ids, comments in order. */
export async function seedReview(
  repo: FakeRepo,
  pull: number,
  review: ReviewSeed,
  nextId: () => number,
): Promise<{ id: number; commentIds: number[] }> {
  const record = repo.pulls.get(pull);
  if (!record) throw new Error(`no pull request #${pull}`);
  const now = new Date().toISOString();
  const added: FakeReview = {
    id: nextId(),
    pull,
    user: review.user,
    state: review.state,
    body: review.body ?? '',
    commitId: review.commitId ?? (await headOf(repo, record)),
    submittedAt: now,
  };
  repo.reviews.push(added);
  const comments = (review.comments ?? []).map((comment): FakeReviewComment => ({
    id: nextId(),
    pull,
    reviewId: added.id,
    path: comment.path,
    line: comment.line,
    body: comment.body,
    user: review.user,
    commitId: added.commitId,
    createdAt: now,
    updatedAt: now,
  }));
  repo.reviewComments.push(...comments);
  record.requestedReviewers = record.requestedReviewers.filter((login) => login !== review.user);
  return { id: added.id, commentIds: comments.map((comment) => comment.id) };
}

/** Stores another App's check run on the repository; returns its id. */
export function seedCheckRun(repo: FakeRepo, run: CheckRunSeed, nextId: () => number): number {
  const now = new Date().toISOString();
  const added: FakeCheckRun = {
    id: nextId(),
    name: run.name,
    headSha: run.headSha,
    status: run.status,
    conclusion: run.conclusion ?? null,
    output: {
      title: run.output?.title ?? null,
      summary: run.output?.summary ?? null,
      text: run.output?.text ?? null,
    },
    appId: run.appId ?? (run.appSlug === 'github-actions' ? ACTIONS_APP_ID : 777),
    ...(run.appSlug !== undefined ? { appSlug: run.appSlug } : {}),
    ...(run.annotations ? { annotations: run.annotations.map((annotation) => ({ ...annotation })) } : {}),
    ...(run.log !== undefined ? { log: run.log } : {}),
    startedAt: now,
    completedAt: run.status === 'completed' ? now : null,
  };
  repo.checkRuns.push(added);
  return added.id;
}
