import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ForgeError } from '../../domain/errors.js';
import type { Failpoint } from '../../domain/failpoint.js';
import type {
  CheckConclusion,
  CheckFailure,
  CheckOutput,
  Forge,
  MergeMethod,
  MergeResult,
  OpenPullRequest,
  SeriesMergeRequest,
  PullRequestInfo,
  PullRequestReadiness,
  ReviewFeedback,
} from '../../ports/forge.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { makePrivateDirectory } from '../json-file.js';
import { branchCommit } from '../workspace/branch-refs.js';
import { runGit } from '../workspace/git-cli.js';
import { LocalComments, type LocalComment } from './local-comments.js';
import {
  checkPullRequest,
  failedChecks,
  newCheckId,
  withCheckCompleted,
  withCheckStarted,
} from './local-forge-checks.js';
import { type LocalPullRequest, type MergeContext, completeMerge } from './local-forge-merge.js';
import { newPullRequestRecord, pullRequestInfo } from './local-forge-records.js';
import { type ReviewRequest, feedbackOf, hasReviewComment, readinessOf, withReview } from './local-forge-reviews.js';
import { mergeRequestedSeries } from './local-forge-series.js';
import { LocalPullRequestFiles } from './local-pull-requests.js';

export interface LocalForgeOptions {
  /** Called at the merge's failpoints (the fault suite kills the process there). */
  failpoint?: Failpoint;
}

/**
 * The Forge port for a local repository: a pull request is its branch plus a JSON record under
 * the state directory; a merge is a merge commit of exactly the validated tree, put on the base
 * branch with a compare-and-swap. The user's checkout is never merged in: if it has the base
 * branch checked out, its index and files move with the base, and the merge is refused, with the
 * reason, when they cannot without losing something (local changes, untracked or ignored files in
 * the way). A merge a process began and did not record is finished or undone by the next call
 * that reads that pull request (see `completeMerge`).
 */
export class LocalForge implements Forge {
  private readonly repoDir: string;
  private readonly dir: string;
  private readonly failpoint: Failpoint;
  // Merges and their recovery run one at a time, in this process and across processes.
  private readonly merges = new KeyedQueue();
  // Heads this process pushed or opened PRs for: checks are published by head, several per PR.
  private readonly byHead = new Map<string, number>();
  private readonly notes: LocalComments;
  private readonly records: LocalPullRequestFiles;

  constructor(repoDir: string, stateDir: string, options: LocalForgeOptions = {}) {
    this.repoDir = resolve(repoDir);
    const key = createHash('sha256').update(this.repoDir).digest('hex').slice(0, 12);
    this.dir = join(stateDir, 'local-forge', key);
    this.notes = new LocalComments(this.dir);
    this.records = new LocalPullRequestFiles(this.dir, this.repoDir);
    this.failpoint = options.failpoint ?? (() => undefined);
  }

  async openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo> {
    await makePrivateDirectory(this.dir);
    return withFileLock(join(this.dir, 'numbers.lock'), async () => {
      // One read of the records under the lock serves both questions.
      const records = await this.records.all();
      const existing = records.find(
        (pr) => pr.branch === request.branch && (pr.state === 'open' || pr.state === 'merging'),
      );
      if (existing) return this.info(existing);
      const number = records.reduce((max, pr) => Math.max(max, pr.number), 0) + 1;
      const record = newPullRequestRecord(number, this.repoDir, request);
      await this.records.save(record);
      this.byHead.set(record.headSha, record.number);
      return this.info(record);
    });
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    const record = await this.records.load(number);
    if (record.state !== 'merging') return this.info(record);
    return this.exclusively(async () => this.info(await this.settled(number)));
  }

  async pushBranch(branch: string, sha: string, expectedSha: string | null): Promise<void> {
    // The branch already lives in the repository; "pushing" moves it, compare-and-swap.
    const moved = await runGit(['update-ref', `refs/heads/${branch}`, sha, ...(expectedSha ? [expectedSha] : [])], {
      cwd: this.repoDir,
      allowExitCodes: [1, 128],
    });
    if (moved.exitCode !== 0)
      throw new ForgeError(
        'branch-moved',
        `${branch} is no longer at ${expectedSha?.slice(0, 8)}; someone else moved it.`,
      );
    // The open PR of the branch now shows this head (checks are published by head).
    for (const record of (await this.records.all()).filter(
      (candidate) => candidate.branch === branch && candidate.state === 'open' && candidate.headSha !== sha,
    )) {
      await this.records.update(record.number, (current) => ({ ...current, headSha: sha }));
      this.byHead.set(sha, record.number);
    }
  }

  async fetchBase(base: string): Promise<string> {
    return this.resolve(`refs/heads/${base}`);
  }

  async startCheck(request: { name: string; headSha: string; title: string }): Promise<string> {
    const number = await this.pullRequestWithHead(request.headSha);
    const id = newCheckId(number);
    await this.records.update(number, (record) => withCheckStarted(record, id, request));
    return id;
  }

  async completeCheck(checkId: string, result: { conclusion: CheckConclusion } & CheckOutput): Promise<void> {
    await this.records.update(checkPullRequest(checkId), (record) => withCheckCompleted(record, checkId, result));
  }

  async readiness(number: number): Promise<PullRequestReadiness> {
    const record = await this.records.load(number);
    return readinessOf(record, (await this.info(record)).headSha);
  }

  /**
   * A review from the terminal (`fanout approve`): local mode's stand-in for a GitHub review, with
   * optional text and inline comments (`line` null: the whole file). Returns the review's id.
   */
  async recordReview(number: number, review: ReviewRequest): Promise<number> {
    const head = review.headSha ?? (await this.getPullRequest(number)).headSha;
    let id = 0;
    await this.records.update(number, (record) => {
      const reviewed = withReview(record, review, head);
      id = reviewed.id;
      return reviewed.record;
    });
    return id;
  }

  async reviewFeedback(pullRequest: number, reviewId: number): Promise<ReviewFeedback> {
    return feedbackOf(await this.records.load(pullRequest), reviewId);
  }

  /** Stored as a comment on the pull request that names the review comment it answers. */
  async replyToReviewComment(pullRequest: number, commentId: number, body: string): Promise<void> {
    if (!hasReviewComment(await this.records.load(pullRequest), commentId)) {
      throw new ForgeError('forge-refused', `No review comment ${commentId} on local pull request #${pullRequest}.`);
    }
    await this.notes.append(pullRequest, body, commentId);
  }

  async requestReview(pullRequest: number, reviewers: readonly string[]): Promise<void> {
    if (reviewers.length === 0) return;
    await this.records.update(pullRequest, (record) => ({
      ...record,
      requestedReviewers: [...new Set([...record.requestedReviewers, ...reviewers])],
    }));
  }

  /** Who is asked to review the pull request and has not reviewed since. */
  async requestedReviewers(pullRequest: number): Promise<string[]> {
    return (await this.records.load(pullRequest)).requestedReviewers;
  }

  async addLabel(issueOrPullRequest: number, label: string): Promise<void> {
    if ((await this.records.load(issueOrPullRequest)).labels.includes(label)) return;
    await this.records.update(issueOrPullRequest, (record) =>
      record.labels.includes(label) ? record : { ...record, labels: [...record.labels, label] },
    );
  }

  /** The labels on a pull request, in the order added. */
  async labels(issueOrPullRequest: number): Promise<string[]> {
    return (await this.records.load(issueOrPullRequest)).labels;
  }

  /** The latest run of each check on the head, where it failed, from every record with checks on it. */
  async checkFailures(headSha: string): Promise<CheckFailure[]> {
    return failedChecks(await this.records.all(), headSha);
  }

  /** Local mode has one user, who owns the repository. */
  async userPermission(): Promise<'admin'> {
    return 'admin';
  }

  /** Nothing to react to locally: the command line answers at once. */
  async acknowledge(): Promise<void> {}

  async createComment(issueOrPullRequest: number, body: string): Promise<number> {
    return this.notes.append(issueOrPullRequest, body);
  }

  async updateComment(commentId: number, body: string): Promise<void> {
    await this.notes.update(commentId, body);
  }

  /** Every comment on an issue or pull request, oldest first. */
  async comments(issueOrPullRequest: number): Promise<LocalComment[]> {
    return this.notes.on(issueOrPullRequest);
  }

  async merge(
    number: number,
    request: { expectedHeadSha: string; title: string; method?: MergeMethod },
  ): Promise<MergeResult> {
    const [result] = await this.mergeSeries([{ number, ...request }]);
    return result!;
  }

  /**
   * Open pull requests of one base land together: one compare-and-swap, one checkout update. When
   * the checkout cannot take the whole series, each lands on its own, so only the ones it cannot
   * take are refused. A pull request asked twice is merged once; both answers are the same.
   */
  async mergeSeries(requests: readonly SeriesMergeRequest[]): Promise<MergeResult[]> {
    return this.exclusively(async () =>
      mergeRequestedSeries({ settled: (number) => this.settled(number), context: this.mergeContext() }, requests),
    );
  }

  /** The open pull request whose branch is at `headSha` (checks are published on heads). */
  private async pullRequestWithHead(headSha: string): Promise<number> {
    // The PR this process last saw at that head, checked against its record: one file, not all.
    const known = this.byHead.get(headSha);
    if (known !== undefined) {
      const record = await this.records.load(known).catch(() => null);
      if (record && record.headSha === headSha && (record.state === 'open' || record.state === 'merging')) return known;
    }
    const records = await this.records.all();
    // The recorded heads first (no git), then where the branches really are.
    const recorded = records.find(
      (record) => record.headSha === headSha && (record.state === 'open' || record.state === 'merging'),
    );
    if (recorded) return recorded.number;
    for (const record of records) {
      if ((await this.info(record)).headSha === headSha) return record.number;
    }
    throw new ForgeError('pr-not-found', `No local pull request has head ${headSha.slice(0, 8)}.`);
  }

  /** The record, after finishing or undoing a merge an earlier call or process left in progress. */
  private async settled(number: number): Promise<LocalPullRequest> {
    const record = await this.records.load(number);
    if (record.state !== 'merging' || !record.merging) return record;
    return (await completeMerge(this.mergeContext(), { ...record, merging: record.merging })).record;
  }

  /** One merge or recovery at a time (a killed holder's lock is broken at once). */
  private async exclusively<T>(fn: () => Promise<T>): Promise<T> {
    await makePrivateDirectory(this.dir);
    return this.merges.run('merge', () => withFileLock(join(this.dir, 'merge.lock'), fn));
  }

  private mergeContext(): MergeContext {
    return { repoDir: this.repoDir, failpoint: this.failpoint, save: (record) => this.records.save(record) };
  }

  private async info(record: LocalPullRequest): Promise<PullRequestInfo> {
    // An open PR's head is wherever its branch is now.
    const head =
      record.state === 'open' || record.state === 'merging'
        ? await this.resolve(`refs/heads/${record.branch}`).catch(() => record.headSha)
        : record.headSha;
    return pullRequestInfo(record, head);
  }

  private async resolve(ref: string): Promise<string> {
    if (ref.startsWith('refs/heads/')) return branchCommit(this.repoDir, ref.slice('refs/heads/'.length));
    return (await runGit(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: this.repoDir })).stdout.trim();
  }
}
