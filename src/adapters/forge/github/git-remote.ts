import { ForgeError, WorkspaceError } from '../../../domain/errors.js';
import { runGit } from '../../workspace/git-cli.js';
import type { TokenSource } from './token-source.js';
import { withoutTokens } from './wrap-error.js';

/** Fanout's clone of a GitHub repository and how to reach the repository itself. */
export interface RemoteRepository {
  cloneDir: string;
  /** The payload's `clone_url`; never carries credentials. */
  remoteUrl: string;
  tokens: TokenSource;
  /** Config from the caller's environment that Fanout's git keeps (see `gitConfigPassThrough`). */
  baseEnv: Record<string, string>;
}

/**
 * Where fetched branches are kept in the clone: `refs/fanout/remote/<branch>`, refs of Fanout's
 * own, so no remote has to be configured, nobody else's `git fetch` moves them, and what they point
 * at stays reachable (never garbage) while Fanout uses it.
 */
export const FETCHED_PREFIX = 'refs/fanout/remote/';

/**
 * The caller's `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` entries, which
 * `runGit`'s scrubbed environment would otherwise drop: an operator's (or a test's) URL rewrites
 * and proxy settings still apply to fetch and push.
 */
export function gitConfigPassThrough(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const kept: Record<string, string> = {};
  if (env.GIT_CONFIG_GLOBAL) kept.GIT_CONFIG_GLOBAL = env.GIT_CONFIG_GLOBAL;
  const count = Number(env.GIT_CONFIG_COUNT ?? 0);
  if (!Number.isInteger(count) || count <= 0) return kept;
  for (let n = 0; n < count; n += 1) {
    const key = env[`GIT_CONFIG_KEY_${n}`];
    const value = env[`GIT_CONFIG_VALUE_${n}`];
    if (key === undefined || value === undefined) return kept;
    kept[`GIT_CONFIG_KEY_${n}`] = key;
    kept[`GIT_CONFIG_VALUE_${n}`] = value;
    kept.GIT_CONFIG_COUNT = String(n + 1);
  }
  return kept;
}

/**
 * The environment that gives one git process the installation token: an `Authorization` header
 * for the remote's origin only, as config entries appended after any already in `base`. The token
 * never reaches a URL, argv or `.git/config`.
 */
export function gitAuthEnv(
  remoteUrl: string,
  token: string,
  base: Record<string, string> = {},
): Record<string, string> {
  const n = Number(base.GIT_CONFIG_COUNT ?? 0);
  const origin = new URL(remoteUrl).origin;
  return {
    ...base,
    GIT_CONFIG_COUNT: String(n + 1),
    [`GIT_CONFIG_KEY_${n}`]: `http.${origin}/.extraheader`,
    [`GIT_CONFIG_VALUE_${n}`]: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
}

/** Runs a git command that talks to the remote, with a fresh token; failures become ForgeErrors. */
async function remoteGit(
  remote: RemoteRepository,
  call: string,
  args: string[],
  allowExitCodes: number[] = [],
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const token = await remote.tokens.token();
  try {
    return await runGit(args, {
      cwd: remote.cloneDir,
      env: gitAuthEnv(remote.remoteUrl, token, remote.baseEnv),
      allowExitCodes,
    });
  } catch (error) {
    if (!(error instanceof WorkspaceError)) throw error;
    const detail = withoutTokens(error.message, [token, Buffer.from(`x-access-token:${token}`).toString('base64')]);
    // git has no error codes: its words are the only signal at this edge.
    const code = /Authentication failed|could not read Username|HTTP 40[13]|returned error: 40[13]/i.test(detail)
      ? 'forge-auth'
      : /couldn't find remote ref|not found/i.test(detail)
        ? 'forge-refused'
        : 'forge-unavailable';
    throw new ForgeError(code, `git ${call} with ${remote.remoteUrl} failed: ${detail}`);
  }
}

/**
 * Pushes `sha` to `refs/heads/<branch>` on the remote: forced when `expectedSha` is null, else a
 * compare-and-swap (`--force-with-lease`) that the server applies atomically.
 */
export async function pushBranch(
  remote: RemoteRepository,
  branch: string,
  sha: string,
  expectedSha: string | null,
): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const args =
    expectedSha === null
      ? ['push', '--porcelain', remote.remoteUrl, `+${sha}:${ref}`]
      : ['push', '--porcelain', `--force-with-lease=${ref}:${expectedSha}`, remote.remoteUrl, `${sha}:${ref}`];
  const result = await remoteGit(remote, `push ${branch}`, args, [1]);
  if (result.exitCode === 0) return;
  const rejected = result.stdout.split('\n').find((line) => line.startsWith('!'));
  if (rejected && /stale info|but expected|fetch first|non-fast-forward/.test(rejected)) {
    throw new ForgeError(
      'branch-moved',
      `${branch} is no longer at ${expectedSha?.slice(0, 8) ?? 'the expected commit'} on ${remote.remoteUrl}; someone else moved it.`,
    );
  }
  throw new ForgeError(
    'forge-refused',
    `git push ${branch} to ${remote.remoteUrl} was refused: ${withoutTokens(
      rejected ?? `${result.stdout}\n${result.stderr}`,
      [],
    )
      .trim()
      .slice(-1_000)}`,
  );
}

/** Fetches a branch of the remote into `destination` in the clone; returns its commit. */
export async function fetchBranch(remote: RemoteRepository, branch: string, destination: string): Promise<string> {
  await remoteGit(remote, `fetch ${branch}`, [
    'fetch',
    '--no-tags',
    '--no-write-fetch-head',
    '--no-recurse-submodules',
    remote.remoteUrl,
    `+refs/heads/${branch}:${destination}`,
  ]);
  return (await runGit(['rev-parse', '--verify', `${destination}^{commit}`], { cwd: remote.cloneDir })).stdout.trim();
}
