import { setTimeout as delay } from 'node:timers/promises';
import type { OpenPullRequest, PullRequestInfo } from '../../../ports/forge.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError, httpFailure, mayHaveHappened } from './wrap-error.js';

/** Owner and name of the repository a forge works on. */
export interface RepositoryName {
  owner: string;
  repo: string;
}

/** The fields of a pull request Fanout reads (from `pulls.get` or `pulls.list`). */
export interface PullRequestData {
  number: number;
  html_url: string;
  state: string;
  /** Only `pulls.get` has it; list items have `merged_at`. */
  merged?: boolean | null;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  /** Only `pulls.get` has them: false and `dirty` when the PR conflicts with its base. */
  mergeable?: boolean | null;
  mergeable_state?: string;
  head: { ref: string; sha: string };
  base: { ref: string };
}

export function isMerged(data: PullRequestData): boolean {
  return data.merged === true || (data.merged_at !== undefined && data.merged_at !== null);
}

export function pullRequestInfo(data: PullRequestData): PullRequestInfo {
  const merged = isMerged(data);
  return {
    number: data.number,
    url: data.html_url,
    branch: data.head.ref,
    base: data.base.ref,
    headSha: data.head.sha,
    state: merged ? 'merged' : data.state === 'closed' ? 'closed' : 'open',
    ...(merged && data.merge_commit_sha ? { mergedSha: data.merge_commit_sha } : {}),
  };
}

/** How many times a create that failed with a 5xx is tried in all (each retry after a lookup). */
const CREATE_ATTEMPTS = 3;

function alreadyExists(error: unknown): boolean {
  const failure = httpFailure(error);
  // GitHub's only signal: 422 with errors[].message "A pull request already exists for owner:branch."
  return failure?.status === 422 && JSON.stringify(failure.data ?? '').includes('already exists');
}

/**
 * The branch's pull request, if there is one: the open one (into `base` first), else a merged one
 * whose head is `headSha` (the work is merged already; a new PR would have nothing in it).
 */
async function findPullRequest(
  octokit: GitHubOctokit,
  name: RepositoryName,
  request: OpenPullRequest,
): Promise<PullRequestInfo | null> {
  try {
    const { data } = await octokit.rest.pulls.list({
      ...name,
      head: `${name.owner}:${request.branch}`,
      state: 'all',
      per_page: 100,
    });
    const infos = data.map(pullRequestInfo);
    return (
      infos.find((pr) => pr.state === 'open' && pr.base === request.base) ??
      infos.find((pr) => pr.state === 'open') ??
      infos.find((pr) => pr.state === 'merged' && pr.headSha === request.headSha) ??
      null
    );
  } catch (error) {
    throw forgeError(`list pull requests for ${request.branch}`, error);
  }
}

/**
 * Opens the branch's pull request, or returns the one already open. The create is never retried
 * blindly: GitHub may have created the PR and still answered 5xx, so the branch's PRs are looked
 * up before every repeat, and a 422 "already exists" is answered with the existing PR.
 */
export async function openPullRequest(
  octokit: GitHubOctokit,
  name: RepositoryName,
  request: OpenPullRequest,
  retryDelayMs: number,
): Promise<PullRequestInfo> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data } = await octokit.rest.pulls.create({
        ...name,
        head: request.branch,
        base: request.base,
        title: request.title,
        body: request.body,
        request: { retries: 0 },
      });
      return pullRequestInfo(data);
    } catch (error) {
      if (alreadyExists(error)) {
        const existing = await findPullRequest(octokit, name, request);
        if (existing) return existing;
        throw forgeError(`create pull request for ${request.branch}`, error);
      }
      if (!mayHaveHappened(error) || attempt >= CREATE_ATTEMPTS)
        throw forgeError(`create pull request for ${request.branch}`, error);
      const created = await findPullRequest(octokit, name, request);
      if (created) return created;
      await delay(retryDelayMs * attempt);
    }
  }
}
