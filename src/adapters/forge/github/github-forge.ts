import { ForgeError } from '../../../domain/errors.js';
import type {
  CheckConclusion,
  CheckFailure,
  CheckOutput,
  Forge,
  HeadCheck,
  MergeResult,
  SeriesMergeRequest,
  OpenPullRequest,
  PullRequestInfo,
  PullRequestReadiness,
  ReviewFeedback,
} from '../../../ports/forge.js';
import { checkFailures } from './check-failures.js';
import { checkRunOutput } from './check-output.js';
import { createComment } from './comments.js';
import { FETCHED_PREFIX, type RemoteRepository, fetchBranch, gitConfigPassThrough, pushBranch } from './git-remote.js';
import { type MergeMethod, chooseMergeMethod, mergePullRequest } from './merge.js';
import { type RepositoryName, openPullRequest, pullRequestInfo } from './pull-requests.js';
import { type CheckRunData, firstCheckStart, headCheckRuns, headStatuses, latestReviewStates } from './readiness.js';
import { type BaseRequirements, readBaseRequirements, readStartingSuites } from './repository-ci.js';
import { replyToReviewComment, reviewFeedback } from './review-feedback.js';
import type { GitHubOctokit, TokenSource } from './token-source.js';
import { forgeError, httpFailure } from './wrap-error.js';

type MergeSettings = {
  allow_merge_commit?: boolean | undefined;
  allow_squash_merge?: boolean | undefined;
  allow_rebase_merge?: boolean | undefined;
};

export interface GitHubForgeOptions {
  /** The installation's Octokit (`await probot.auth(installationId)` or `context.octokit`). */
  octokit: GitHubOctokit;
  repository: RepositoryName;
  /** Fanout's clone of the repository (agents' worktrees and branches live there). */
  cloneDir: string;
  /** The payload's `repository.clone_url`; git is authenticated by header, never in this URL. */
  remoteUrl: string;
  /** The installation token for git (`installationTokenSource(octokit, onToken)`). */
  tokens: TokenSource;
  /** The merge method wanted; one the repository allows is used instead if it does not allow this. */
  mergeMethod?: MergeMethod;
  /** Config env for Fanout's git (default: `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_*` from the process). */
  gitEnv?: Record<string, string>;
  /** Wait before repeating a create that failed with a 5xx (times the attempt). */
  retryDelayMs?: number;
}

const WRITE_PERMISSIONS = new Set(['admin', 'write']);

/**
 * The Forge port on GitHub: REST calls through the installation's Octokit, git fetch and push
 * between Fanout's clone and the repository with the installation token in a header. Non-idempotent
 * calls (create PR, comment, merge) turn Octokit's automatic retries off and look up what a failed
 * call may have done before repeating it.
 */
export class GitHubForge implements Forge {
  private readonly octokit: GitHubOctokit;
  private readonly name: RepositoryName;
  private readonly remote: RemoteRepository;
  private readonly preferredMethod: MergeMethod;
  private readonly retryDelayMs: number;
  private mergeMethod: Promise<MergeSettings> | undefined;
  private readonly requirements = new Map<string, Promise<BaseRequirements>>();

  constructor(options: GitHubForgeOptions) {
    this.octokit = options.octokit;
    this.name = { owner: options.repository.owner, repo: options.repository.repo };
    this.remote = {
      cloneDir: options.cloneDir,
      remoteUrl: options.remoteUrl,
      tokens: options.tokens,
      baseEnv: options.gitEnv ?? gitConfigPassThrough(),
    };
    this.preferredMethod = options.mergeMethod ?? 'merge';
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  async pushBranch(branch: string, sha: string, expectedSha: string | null): Promise<void> {
    await pushBranch(this.remote, branch, sha, expectedSha);
  }

  /** Fetches a branch (the base, or a PR's branch a person pushed to) into `refs/fanout/remote/<branch>`. */
  async fetchBase(branch: string): Promise<string> {
    return fetchBranch(this.remote, branch, `${FETCHED_PREFIX}${branch}`);
  }

  async openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo> {
    return openPullRequest(this.octokit, this.name, request, this.retryDelayMs);
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    return this.readPullRequest(number);
  }

  async startCheck(request: { name: string; headSha: string; title: string }): Promise<string> {
    try {
      const { data } = await this.octokit.rest.checks.create({
        ...this.name,
        name: request.name,
        head_sha: request.headSha,
        status: 'in_progress',
        started_at: new Date().toISOString(),
        output: { title: request.title, summary: request.title },
      });
      return String(data.id);
    } catch (error) {
      throw forgeError(`start check ${request.name} on ${request.headSha.slice(0, 8)}`, error);
    }
  }

  async completeCheck(checkId: string, result: { conclusion: CheckConclusion } & CheckOutput): Promise<void> {
    const id = Number(checkId);
    if (!Number.isSafeInteger(id)) throw new ForgeError('forge-refused', `"${checkId}" is not a GitHub check run id.`);
    try {
      await this.octokit.rest.checks.update({
        ...this.name,
        check_run_id: id,
        status: 'completed',
        conclusion: result.conclusion,
        completed_at: new Date().toISOString(),
        output: checkRunOutput(result),
      });
    } catch (error) {
      throw forgeError(`complete check run ${checkId}`, error);
    }
  }

  /**
   * The head's check runs and statuses, the reviews standing on the PR (each approval with the
   * commit it was given on), and the repository's CI: what the base branch requires, and the check
   * suites that have not started yet.
   */
  async readiness(number: number): Promise<PullRequestReadiness> {
    const { headSha, base } = await this.readPullRequest(number);
    const [runs, statuses, reviews, requirements, startingSuites] = await Promise.all([
      this.checkRuns(headSha),
      this.statuses(headSha),
      this.reviews(number),
      this.baseRequirements(base),
      readStartingSuites(this.octokit, this.name, headSha),
    ]);
    const latest = latestReviewStates(reviews);
    const approvals = [...latest].filter(([, review]) => review.state === 'APPROVED');
    const permissions = await Promise.all(approvals.map(([login]) => this.userPermission(login)));
    const firstCheckAt = firstCheckStart(runs);
    return {
      checks: [...headCheckRuns(runs), ...statuses],
      approvals: approvals
        .filter((_, index) => WRITE_PERMISSIONS.has(permissions[index] ?? 'none'))
        .map(([login, review]) => ({ by: login, headSha: review.commitId })),
      changesRequestedBy: [...latest]
        .filter(([, review]) => review.state === 'CHANGES_REQUESTED')
        .map(([login]) => login),
      ci: { ...requirements, startingSuites, ...(firstCheckAt ? { firstCheckAt } : {}) },
    };
  }

  async merge(
    number: number,
    request: { expectedHeadSha: string; title: string; method?: MergeMethod },
  ): Promise<MergeResult> {
    const { method: wanted, ...rest } = request;
    return mergePullRequest(this.octokit, this.name, number, {
      ...rest,
      method: chooseMergeMethod(wanted ?? this.preferredMethod, await this.repositorySettings()),
    });
  }

  /** One merge after another: GitHub merges pull requests one at a time. */
  async mergeSeries(requests: readonly SeriesMergeRequest[]): Promise<MergeResult[]> {
    const results: MergeResult[] = [];
    for (const { number, ...request } of requests) results.push(await this.merge(number, request));
    return results;
  }

  async userPermission(login: string): Promise<'admin' | 'write' | 'read' | 'none'> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.name, username: login });
      const permission = data.role_name === 'maintain' ? 'write' : data.permission;
      if (permission === 'admin' || permission === 'write') return permission;
      if (permission === 'maintain') return 'write';
      return permission === 'read' || permission === 'triage' ? 'read' : 'none';
    } catch (error) {
      // Not a collaborator, or no such user: no permission.
      if (httpFailure(error)?.status === 404) return 'none';
      throw forgeError(`read the permission of ${login}`, error);
    }
  }

  async acknowledge(commentId: number): Promise<void> {
    try {
      // 201 when added, 200 when the reaction was already there: both acknowledge.
      await this.octokit.rest.reactions.createForIssueComment({ ...this.name, comment_id: commentId, content: 'eyes' });
    } catch (error) {
      throw forgeError(`react to comment ${commentId}`, error);
    }
  }

  async createComment(issueOrPullRequest: number, body: string): Promise<number> {
    return createComment(this.octokit, this.name, issueOrPullRequest, body, this.retryDelayMs);
  }

  async updateComment(commentId: number, body: string): Promise<void> {
    try {
      await this.octokit.rest.issues.updateComment({ ...this.name, comment_id: commentId, body });
    } catch (error) {
      throw forgeError(`update comment ${commentId}`, error);
    }
  }

  async reviewFeedback(pullRequest: number, reviewId: number): Promise<ReviewFeedback> {
    return reviewFeedback(this.octokit, this.name, pullRequest, reviewId);
  }

  async replyToReviewComment(pullRequest: number, commentId: number, body: string): Promise<void> {
    await replyToReviewComment(this.octokit, this.name, pullRequest, commentId, body, this.retryDelayMs);
  }

  async requestReview(pullRequest: number, reviewers: readonly string[]): Promise<void> {
    if (reviewers.length === 0) return;
    try {
      await this.octokit.rest.pulls.requestReviewers({
        ...this.name,
        pull_number: pullRequest,
        reviewers: [...reviewers],
      });
    } catch (error) {
      // 422: a reviewer is the PR's author or not a collaborator; nobody else can be asked either way.
      if (httpFailure(error)?.status === 422) return;
      throw forgeError(`request reviews on #${pullRequest}`, error, { notFound: 'pr-not-found' });
    }
  }

  async addLabel(issueOrPullRequest: number, label: string): Promise<void> {
    try {
      // GitHub creates a label the repository does not have yet; one already on the issue stays once.
      await this.octokit.rest.issues.addLabels({ ...this.name, issue_number: issueOrPullRequest, labels: [label] });
    } catch (error) {
      throw forgeError(`label #${issueOrPullRequest} "${label}"`, error, { notFound: 'pr-not-found' });
    }
  }

  async checkFailures(headSha: string): Promise<CheckFailure[]> {
    return checkFailures(this.octokit, this.name, headSha);
  }

  private async readPullRequest(number: number): Promise<PullRequestInfo> {
    try {
      return pullRequestInfo((await this.octokit.rest.pulls.get({ ...this.name, pull_number: number })).data);
    } catch (error) {
      throw forgeError(`get pull request #${number}`, error, { notFound: 'pr-not-found' });
    }
  }

  private async checkRuns(sha: string): Promise<CheckRunData[]> {
    try {
      return await this.octokit.paginate(this.octokit.rest.checks.listForRef, {
        ...this.name,
        ref: sha,
        filter: 'latest',
        per_page: 100,
      });
    } catch (error) {
      throw forgeError(`list check runs on ${sha.slice(0, 8)}`, error);
    }
  }

  private async statuses(sha: string): Promise<HeadCheck[]> {
    try {
      const { data } = await this.octokit.rest.repos.getCombinedStatusForRef({ ...this.name, ref: sha, per_page: 100 });
      // The combined state says `pending` when there are no statuses at all: use the list, not it.
      return headStatuses(data.statuses);
    } catch (error) {
      throw forgeError(`read commit statuses of ${sha.slice(0, 8)}`, error);
    }
  }

  private async reviews(number: number) {
    try {
      return await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
        ...this.name,
        pull_number: number,
        per_page: 100,
      });
    } catch (error) {
      throw forgeError(`list reviews of #${number}`, error, { notFound: 'pr-not-found' });
    }
  }

  /** Read once per forge and base (a forge serves one pass): protection rarely changes during one. */
  private baseRequirements(base: string): Promise<BaseRequirements> {
    let read = this.requirements.get(base);
    if (!read) {
      read = readBaseRequirements(this.octokit, this.name, base);
      read.catch(() => this.requirements.delete(base));
      this.requirements.set(base, read);
    }
    return read;
  }

  /** Read once per forge: the repository's allowed methods rarely change during a run. */
  private repositorySettings(): Promise<MergeSettings> {
    this.mergeMethod ??= this.octokit.rest.repos.get({ ...this.name }).then(
      ({ data }) => ({
        allow_merge_commit: data.allow_merge_commit,
        allow_squash_merge: data.allow_squash_merge,
        allow_rebase_merge: data.allow_rebase_merge,
      }),
      (error: unknown) => {
        this.mergeMethod = undefined;
        throw forgeError(`read the settings of ${this.name.owner}/${this.name.repo}`, error);
      },
    );
    return this.mergeMethod;
  }
}
