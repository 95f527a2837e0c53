import type { ProbotOctokit } from 'probot';
import { ForgeError } from '../../../domain/errors.js';
import { forgeError } from './wrap-error.js';

/** The installation Octokit Probot hands out (`context.octokit`, `await probot.auth(id)`). */
export type GitHubOctokit = InstanceType<typeof ProbotOctokit>;

/** Where git gets the installation token from, right before each fetch or push. */
export interface TokenSource {
  token(): Promise<string>;
}

/** A token with less than this left is replaced before use: a fetch or push must not outlive it. */
export const TOKEN_REFRESH_MARGIN_MS = 15 * 60_000;

interface InstallationToken {
  token: string;
  expiresAt: number;
}

function parseToken(data: unknown, now: number): InstallationToken {
  if (
    typeof data !== 'object' ||
    data === null ||
    !('token' in data) ||
    typeof data.token !== 'string' ||
    data.token === ''
  ) {
    throw new ForgeError('forge-auth', 'GitHub installation token: the answer holds no token.');
  }
  const expiresAt =
    'expires_at' in data && typeof data.expires_at === 'string' ? Date.parse(data.expires_at) : Number.NaN;
  // GitHub's tokens last an hour; assume that if the answer does not say.
  return { token: data.token, expiresAt: Number.isNaN(expiresAt) ? now + 60 * 60_000 : expiresAt };
}

/**
 * Installation tokens for git, created through the installation's Octokit and replaced when less
 * than 15 minutes are left. `onToken` sees each new token, so the caller can redact it everywhere.
 *
 * The token is asked for with `POST /app/installations/{id}/access_tokens`, which Octokit's App
 * auth signs with the App's JWT and sends to the Octokit's own `baseUrl`. `octokit.auth({ type:
 * 'installation' })` is not used: in Probot 14 its request is built without the `baseUrl`, so on
 * GitHub Enterprise Server (and against a test server) an uncached or refreshed token is asked of
 * api.github.com.
 */
export function installationTokenSource(
  octokit: GitHubOctokit,
  installationId: number,
  onToken?: (token: string) => void,
  options: { now?: () => number } = {},
): TokenSource {
  const now = options.now ?? Date.now;
  let held: InstallationToken | undefined;
  let pending: Promise<InstallationToken> | undefined;
  const create = async (): Promise<InstallationToken> => {
    try {
      const { data } = await octokit.request('POST /app/installations/{installation_id}/access_tokens', {
        installation_id: installationId,
      });
      const created = parseToken(data, now());
      onToken?.(created.token);
      return created;
    } catch (error) {
      throw forgeError(`installation token for installation ${installationId}`, error);
    }
  };
  return {
    async token() {
      if (held && held.expiresAt - now() >= TOKEN_REFRESH_MARGIN_MS) return held.token;
      // Concurrent callers share one request.
      pending ??= create()
        .then((created) => (held = created))
        .finally(() => {
          pending = undefined;
        });
      return (await pending).token;
    },
  };
}
