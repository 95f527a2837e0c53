/** A pull request as Fanout needs to know it. */
export interface PullRequestInfo {
  number: number;
  url: string;
  branch: string;
  base: string;
  headSha: string;
  state: 'open' | 'merged' | 'closed';
  approved: boolean;
  mergedSha?: string;
}

export interface OpenPullRequest {
  runId: string;
  subtaskId: string;
  title: string;
  body: string;
  branch: string;
  base: string;
  headSha: string;
}

export interface CheckReport {
  name: string;
  headSha: string;
  conclusion: 'success' | 'failure';
  title: string;
  summary: string;
  details?: string;
}

export type MergeResult = { kind: 'merged'; sha: string } | { kind: 'refused'; reason: string };

/** Pull requests, checks, reviews and merges: GitHub, or branches and records in local mode. */
export interface Forge {
  readonly kind: 'local' | 'github';
  /** Opens a PR for the branch, or returns the open one (so a resumed run does not open two). */
  openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo>;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  /** Points the PR's branch at a new commit Fanout made (the branch updated with its base). */
  updateHead(number: number, sha: string, expectedSha: string): Promise<void>;
  publishCheck(number: number, check: CheckReport): Promise<void>;
  /** Approval by policy (approval: auto), with the reason. */
  approve(number: number, reason: string): Promise<void>;
  /** Merges exactly `expectedHeadSha`; refuses if the PR's head is anything else. */
  merge(number: number, request: { expectedHeadSha: string; title: string }): Promise<MergeResult>;
}
