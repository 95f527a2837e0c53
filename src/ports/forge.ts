/** A pull request as Fanout needs to know it. */
export interface PullRequestInfo {
  number: number;
  url: string;
  branch: string;
  base: string;
  headSha: string;
  /** `closed` means closed without merging (by a person). */
  state: 'open' | 'merged' | 'closed';
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

/** How a check run ended; `neutral` is neither a pass nor a failure (e.g. nothing to check). */
export type CheckConclusion = 'success' | 'failure' | 'neutral';

/** What a check run shows: a title, a summary, and a longer text (the output tail). */
export interface CheckOutput {
  title: string;
  summary: string;
  text?: string;
}

/** One check or commit status on a head, from any source (Fanout's own, the repository's CI). */
export interface HeadCheck {
  name: string;
  state: 'success' | 'failure' | 'pending';
}

/** A standing approval: who gave it, and the head it was given on (it counts for that head only). */
export interface ReviewApproval {
  by: string;
  headSha: string;
}

/**
 * What the repository's CI and branch protection ask of a head (GitHub). Absent where the forge
 * has no CI (local mode): nothing to wait for there.
 */
export interface RepositoryCi {
  /** Check and status contexts the base branch requires (branch protection and rulesets Fanout can read). */
  requiredChecks: string[];
  /** Approving reviews the base branch requires (0: none, or none Fanout can read). */
  requiredApprovals: number;
  /** Apps (by name) with a check suite on the head that has no check run yet: CI about to start. */
  startingSuites: string[];
  /** When the head's first check run started (ISO): a grace period for CI to appear counts from it. */
  firstCheckAt?: string;
}

/** What the forge says about a pull request's head right now: its checks, its reviews, its CI. */
export interface PullRequestReadiness {
  checks: HeadCheck[];
  /** Users with write access whose latest review approves, each with the head they approved. */
  approvals: ReviewApproval[];
  /** Users whose latest review requests changes. */
  changesRequestedBy: string[];
  ci?: RepositoryCi;
}

/** One inline comment of a review: the file and line it points at, and what it says. */
export interface ReviewComment {
  id: number;
  path: string;
  /** The line in the head's version of the file; null when the comment is on the whole file or outdated. */
  line: number | null;
  body: string;
  /** Set on a reply in an existing thread (the thread's first comment). */
  inReplyTo?: number;
}

/** What a review asked for: its text and its inline comments. */
export interface ReviewFeedback {
  reviewer: string;
  state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
  body: string;
  comments: ReviewComment[];
}

/** A check (or commit status) that failed on a head, with what it said about why. */
export interface CheckFailure {
  name: string;
  /** The check's title and summary (a status's description). */
  summary: string;
  /** Annotations at failure level: where in the code, and the message. */
  annotations: Array<{ path: string; line: number | null; message: string }>;
  /** The last lines of the check's output text or job log (at most a few KB); empty when none. */
  logTail: string;
}

/**
 * Why a forge refused a merge, for the queue to act on (the message is for people). `blocked`: a
 * rule of the repository (branch protection) holds it for now; the same merge may pass later.
 */
export type MergeRefusal =
  'head-moved' | 'not-up-to-date' | 'not-mergeable' | 'blocked' | 'checkout-blocked' | 'not-open' | 'no-longer-on-base';

export type MergeResult = { kind: 'merged'; sha: string } | { kind: 'refused'; reason: MergeRefusal; message: string };

/** How a pull request lands: `squash` (one commit per PR, the default), `merge` (a merge commit) or `rebase`. */
export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** One pull request of a series to merge (see `Forge.mergeSeries`). */
export interface SeriesMergeRequest {
  number: number;
  expectedHeadSha: string;
  title: string;
  method?: MergeMethod;
}

/**
 * Pull requests, checks, reviews, comments and merges: GitHub, or branches and records in local
 * mode. Every implementation runs the same contract suite.
 */
export interface Forge {
  /**
   * Points `branch` where pull requests live at `sha` (a push on GitHub). Compare-and-swap: refused
   * with a `ForgeError` ('branch-moved') when the branch is not at `expectedSha` (null: any, or absent).
   */
  pushBranch(branch: string, sha: string, expectedSha: string | null): Promise<void>;
  /** Opens a PR for the branch, or returns the open one (so a resumed run does not open two). */
  openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo>;
  getPullRequest(number: number): Promise<PullRequestInfo>;
  /**
   * A branch's head as the forge has it (the base where merges happen, or a pull request's branch
   * someone pushed to), present in the local repository: fetched first on GitHub.
   */
  fetchBase(branch: string): Promise<string>;
  /** Starts a check run on a head, shown as in progress; returns its id. */
  startCheck(request: { name: string; headSha: string; title: string }): Promise<string>;
  completeCheck(checkId: string, result: { conclusion: CheckConclusion } & CheckOutput): Promise<void>;
  /** Checks and reviews of the pull request's current head. */
  readiness(number: number): Promise<PullRequestReadiness>;
  /**
   * Merges exactly `expectedHeadSha`; refuses if the PR's head is anything else. `method` is the
   * wanted one; a forge whose repository does not allow it uses one that it allows.
   */
  merge(
    number: number,
    request: { expectedHeadSha: string; title: string; method?: MergeMethod },
  ): Promise<MergeResult>;
  /**
   * Merges pull requests in this order, as `merge` would one after another; results answer the
   * requests by index, and a refused one does not stop the rest. Where the forge can, the series
   * lands at once (local mode: one compare-and-swap of the base, one update of the checkout).
   */
  mergeSeries(requests: readonly SeriesMergeRequest[]): Promise<MergeResult[]>;
  /** A user's permission on the repository (`maintain` counts as write, `triage` as read). */
  userPermission(login: string): Promise<'admin' | 'write' | 'read' | 'none'>;
  /** Acknowledges a command comment at once (a reaction on GitHub). */
  acknowledge(commentId: number): Promise<void>;
  /** Comments on an issue or pull request; returns the comment's id. */
  createComment(issueOrPullRequest: number, body: string): Promise<number>;
  updateComment(commentId: number, body: string): Promise<void>;
  /** A review's state, text and inline comments (`reviewId` as the review event named it). */
  reviewFeedback(pullRequest: number, reviewId: number): Promise<ReviewFeedback>;
  /** Replies in the thread of an inline review comment. */
  replyToReviewComment(pullRequest: number, commentId: number, body: string): Promise<void>;
  /** Asks these people to review the pull request again. */
  requestReview(pullRequest: number, reviewers: readonly string[]): Promise<void>;
  /** Adds a label to an issue or pull request (created on the repository if missing). */
  addLabel(issueOrPullRequest: number, label: string): Promise<void>;
  /** The checks and statuses that failed on a head, each with its summary, annotations and log tail. */
  checkFailures(headSha: string): Promise<CheckFailure[]>;
}
