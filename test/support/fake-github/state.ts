/** A repository role, as an owner would set it (the permission API folds maintain and triage). */
export type FakeRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface FakePull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommitSha: string | null;
  /** When it was merged (ISO), or null. */
  mergedAt: string | null;
  /** The head's sha when last seen (a closed or merged PR keeps it; an open one reads the branch). */
  lastHeadSha: string;
  user: string;
  createdAt: string;
  /** Users asked to review who have not reviewed since (GitHub drops a reviewer once they review). */
  requestedReviewers: string[];
}

/** An issue or pull request's entry in the shared number sequence. */
export interface FakeIssue {
  title: string;
  isPull: boolean;
  /** Label names, in the order added. */
  labels: string[];
}

/** A label defined on the repository (adding an unknown one to an issue creates it). */
export interface FakeLabel {
  id: number;
  name: string;
  color: string;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

/** A check run annotation, as another App (the repository's CI) reports it. */
export interface FakeAnnotation {
  path: string;
  line: number;
  level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  appId: number;
  /** The App's slug; default `fanout-test` for the fake's App, `app-<id>` for others. */
  appSlug?: string;
  annotations?: FakeAnnotation[];
  /** The job log of a GitHub Actions check run (its id is the job's id, as on GitHub). */
  log?: string;
  startedAt: string;
  completedAt: string | null;
}

export interface FakeStatus {
  id: number;
  sha: string;
  context: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description?: string;
  createdAt: string;
}

export interface FakeReview {
  id: number;
  pull: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  body: string;
  commitId: string;
  submittedAt: string;
}

/** An inline review comment (a pull request review comment), or a reply in its thread. */
export interface FakeReviewComment {
  id: number;
  pull: number;
  /** The review it was submitted with (a reply gets a review of its own, as on GitHub). */
  reviewId: number;
  path: string;
  /** The line in the head's version of the file; null for a comment on the whole file. */
  line: number | null;
  body: string;
  user: string;
  commitId: string;
  /** The thread's first comment, for a reply. */
  inReplyTo?: number;
  createdAt: string;
  updatedAt: string;
}

export interface FakeReaction {
  id: number;
  commentId: number;
  content: string;
  user: string;
}

/**
 * What a base branch requires before a merge: by classic branch protection (of which "Get a branch"
 * shows the required status checks, not the required reviews) or by a ruleset (all of it shown
 * by "Get rules for a branch").
 */
export interface FakeRequirements {
  requiredChecks: string[];
  requiredApprovals: number;
}

/** A check suite another App has on a head before (or without) any check run in it. */
export interface FakeCheckSuite {
  id: number;
  headSha: string;
  appId: number;
  appSlug: string;
  appName: string;
  createdAt: string;
}

export interface FakeRepoSettings {
  allowMergeCommit: boolean;
  allowSquashMerge: boolean;
  allowRebaseMerge: boolean;
}

/** One repository's state: its bare git directory plus everything the REST API stores beside it. */
export interface FakeRepo {
  owner: string;
  name: string;
  /** The bare repository (what `git push` and `git fetch` reach). */
  dir: string;
  defaultBranch: string;
  settings: FakeRepoSettings;
  /** Issue and pull request numbers share one sequence, as on GitHub. */
  issues: Map<number, FakeIssue>;
  pulls: Map<number, FakePull>;
  comments: FakeComment[];
  reviewComments: FakeReviewComment[];
  labels: FakeLabel[];
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  reviews: FakeReview[];
  reactions: FakeReaction[];
  roles: Map<string, FakeRole>;
  /** Classic branch protection, by branch. */
  protection: Map<string, FakeRequirements>;
  /** Ruleset rules, by branch. */
  rulesets: Map<string, FakeRequirements>;
  /** Suites seeded before their App ran anything (suites with runs follow from `checkRuns`). */
  checkSuites: FakeCheckSuite[];
}

/** An installation token the fake issued. */
export interface IssuedToken {
  token: string;
  /** `token-1`, `token-2`, … in issue order: what logs show instead of the token. */
  label: string;
  installationId: number;
  expiresAt: number;
}

/** One REST call the fake answered. */
export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

/** One git smart-HTTP request the fake answered; `url` is the raw request target. */
export interface RecordedGitRequest {
  method: string;
  url: string;
  /** The label of the token it carried in its Authorization header, or null. */
  authorizedAs: string | null;
  status: number;
}

/** A fault the next matching request gets instead of (or after) the real answer. */
export interface FaultSpec {
  method: string;
  /** An exact path, or a pattern tested against it. */
  path: string | RegExp;
  status: number;
  /** Do the real work first, then answer with the fault (a 502 that did create the PR). */
  afterApplying?: boolean;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The user the App's installation token acts as. */
export const APP_BOT = 'fanout-test[bot]';

/** The id of the App the fake serves (check runs made with its tokens carry it). */
export const FAKE_APP_ID = 4242;

/** GitHub Actions' App id on github.com; its check runs have the slug `github-actions`. */
export const ACTIONS_APP_ID = 15368;

export function newRepo(owner: string, name: string, dir: string, defaultBranch: string): FakeRepo {
  return {
    owner,
    name,
    dir,
    defaultBranch,
    settings: { allowMergeCommit: true, allowSquashMerge: true, allowRebaseMerge: true },
    issues: new Map(),
    pulls: new Map(),
    comments: [],
    reviewComments: [],
    labels: [],
    checkRuns: [],
    statuses: [],
    reviews: [],
    reactions: [],
    roles: new Map(),
    protection: new Map(),
    rulesets: new Map(),
    checkSuites: [],
  };
}

/** The next number in the repository's shared issue/PR sequence. */
export function nextIssueNumber(repo: FakeRepo): number {
  return Math.max(0, ...repo.issues.keys()) + 1;
}
