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
  /** The head's sha when last seen (a closed or merged PR keeps it; an open one reads the branch). */
  lastHeadSha: string;
  user: string;
  createdAt: string;
}

export interface FakeComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  createdAt: string;
  updatedAt: string;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  appId: number;
  startedAt: string;
  completedAt: string | null;
}

export interface FakeStatus {
  id: number;
  sha: string;
  context: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  createdAt: string;
}

export interface FakeReview {
  id: number;
  pull: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commitId: string;
  submittedAt: string;
}

export interface FakeReaction {
  id: number;
  commentId: number;
  content: string;
  user: string;
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
  issues: Map<number, { title: string; isPull: boolean }>;
  pulls: Map<number, FakePull>;
  comments: FakeComment[];
  checkRuns: FakeCheckRun[];
  statuses: FakeStatus[];
  reviews: FakeReview[];
  reactions: FakeReaction[];
  roles: Map<string, FakeRole>;
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
    checkRuns: [],
    statuses: [],
    reviews: [],
    reactions: [],
    roles: new Map(),
  };
}

/** The next number in the repository's shared issue/PR sequence. */
export function nextIssueNumber(repo: FakeRepo): number {
  return Math.max(0, ...repo.issues.keys()) + 1;
}
