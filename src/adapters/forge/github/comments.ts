import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { RepositoryName } from './pull-requests.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError, mayHaveHappened } from './wrap-error.js';

const CREATE_ATTEMPTS = 3;

/** The hidden line that lets Fanout find a comment it may have created (HTML comments do not render). */
export function commentMarker(id: string = randomUUID()): string {
  return `<!-- fanout:${id} -->`;
}

async function findComment(
  octokit: GitHubOctokit,
  name: RepositoryName,
  issue: number,
  marker: string,
  since: string,
): Promise<number | null> {
  try {
    // `since` (updated at or after) keeps the scan to the comments of the last minutes.
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...name,
      issue_number: issue,
      since,
      per_page: 100,
    });
    return comments.find((comment) => comment.body?.includes(marker))?.id ?? null;
  } catch (error) {
    throw forgeError(`list comments on #${issue}`, error);
  }
}

/**
 * Comments on an issue or PR with a hidden marker appended. After a 5xx the comment may exist:
 * the issue's comments are searched for the marker before the create is repeated, so one call
 * never posts two comments.
 */
export async function createComment(
  octokit: GitHubOctokit,
  name: RepositoryName,
  issue: number,
  body: string,
  retryDelayMs: number,
): Promise<number> {
  const marker = commentMarker();
  const since = new Date(Date.now() - 10 * 60_000).toISOString();
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data } = await octokit.rest.issues.createComment({
        ...name,
        issue_number: issue,
        body: `${body}\n\n${marker}`,
        request: { retries: 0 },
      });
      return data.id;
    } catch (error) {
      if (!mayHaveHappened(error) || attempt >= CREATE_ATTEMPTS)
        throw forgeError(`comment on #${issue}`, error, { notFound: 'pr-not-found' });
      const created = await findComment(octokit, name, issue, marker, since);
      if (created !== null) return created;
      await delay(retryDelayMs * attempt);
    }
  }
}
