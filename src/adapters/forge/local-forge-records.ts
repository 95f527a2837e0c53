import type { OpenPullRequest, PullRequestInfo } from '../../ports/forge.js';
import type { LocalPullRequest } from './local-forge-merge.js';

/** A new open pull request record for `request`, numbered `number` in the repository at `repoDir`. */
export function newPullRequestRecord(number: number, repoDir: string, request: OpenPullRequest): LocalPullRequest {
  return {
    number,
    url: `local:${repoDir}#${number}`,
    branch: request.branch,
    base: request.base,
    headSha: request.headSha,
    state: 'open',
    runId: request.runId,
    subtaskId: request.subtaskId,
    title: request.title,
    body: request.body,
    checks: [],
    reviews: [],
    requestedReviewers: [],
    labels: [],
    createdAt: new Date().toISOString(),
  };
}

/** What the Forge port shows of a record whose head is `head`. */
export function pullRequestInfo(record: LocalPullRequest, head: string): PullRequestInfo {
  return {
    number: record.number,
    url: record.url,
    branch: record.branch,
    base: record.base,
    headSha: head,
    // A merge in progress is not a merge yet.
    state: record.state === 'merging' ? 'open' : record.state,
    ...(record.state === 'merged' && record.mergedSha ? { mergedSha: record.mergedSha } : {}),
  };
}
