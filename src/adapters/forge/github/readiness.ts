import type { HeadCheck } from '../../../ports/forge.js';

/** A check run as the check-runs list gives it. */
export interface CheckRunData {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  started_at?: string | null;
}

/** A commit status as the combined status gives it (the latest per context). */
export interface StatusData {
  context: string;
  state: string;
}

/** A review as the list-reviews endpoint gives it (states in upper case). */
export interface ReviewData {
  id: number;
  state: string;
  user: { login: string } | null;
  /** The head the review was given on. */
  commit_id?: string | null;
}

const GREEN = new Set(['success', 'neutral', 'skipped']);

/** A check run's state: green conclusions pass, anything not completed is pending, the rest fails. */
export function checkRunState(run: Pick<CheckRunData, 'status' | 'conclusion'>): HeadCheck['state'] {
  if (run.status !== 'completed') return 'pending';
  // failure, cancelled, timed_out, action_required, stale: not a pass.
  return run.conclusion !== null && GREEN.has(run.conclusion) ? 'success' : 'failure';
}

/** The latest run of each check name (GitHub's `filter=latest` is per app; the highest id wins here). */
export function headCheckRuns(runs: readonly CheckRunData[]): HeadCheck[] {
  const latest = new Map<string, CheckRunData>();
  for (const run of runs) {
    const seen = latest.get(run.name);
    if (!seen || run.id > seen.id) latest.set(run.name, run);
  }
  return [...latest.values()].map((run) => ({ name: run.name, state: checkRunState(run) }));
}

/** Commit statuses as checks: error and failure fail, pending is pending. No statuses: no checks. */
export function headStatuses(statuses: readonly StatusData[]): HeadCheck[] {
  return statuses.map((status) => ({
    name: status.context,
    state: status.state === 'success' ? 'success' : status.state === 'pending' ? 'pending' : 'failure',
  }));
}

/** A user's latest review that decides something, and the head it was given on ('' when GitHub does not say). */
export interface DecidingReview {
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'DISMISSED';
  commitId: string;
}

/**
 * Each user's latest review that decides something: a comment-only review leaves an earlier
 * approval or request for changes standing, as on GitHub; a dismissed one withdraws it.
 */
export function latestReviewStates(reviews: readonly ReviewData[]): Map<string, DecidingReview> {
  const latest = new Map<string, DecidingReview>();
  for (const review of [...reviews].sort((a, b) => a.id - b.id)) {
    if (!review.user) continue;
    if (review.state === 'APPROVED' || review.state === 'CHANGES_REQUESTED' || review.state === 'DISMISSED')
      latest.set(review.user.login, { state: review.state, commitId: review.commit_id ?? '' });
  }
  return latest;
}

/** When the earliest of a head's check runs started (ISO), if any says. */
export function firstCheckStart(runs: readonly CheckRunData[]): string | undefined {
  const starts = runs.flatMap((run) => (run.started_at ? [Date.parse(run.started_at)] : []));
  const first = Math.min(...starts.filter((start) => !Number.isNaN(start)));
  return Number.isFinite(first) ? new Date(first).toISOString() : undefined;
}
