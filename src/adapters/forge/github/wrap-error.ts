import { ForgeError, type ForgeErrorCode } from '../../../domain/errors.js';

// GitHub token formats (installation, OAuth, user-to-server, refresh, personal): never in a message.
const GITHUB_TOKEN = /\b(gh[opsur]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g;

interface HttpFailure {
  status: number;
  message: string;
  headers: Record<string, unknown>;
  data: unknown;
}

/** The HTTP side of an Octokit error (a `RequestError`), read by shape so no SDK class is needed. */
export function httpFailure(error: unknown): HttpFailure | null {
  if (typeof error !== 'object' || error === null || !('status' in error) || typeof error.status !== 'number')
    return null;
  const response =
    'response' in error && typeof error.response === 'object' && error.response !== null
      ? (error.response as { headers?: unknown; data?: unknown })
      : {};
  const data = response.data;
  const apiMessage =
    typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string'
      ? data.message
      : undefined;
  return {
    status: error.status,
    message: apiMessage ?? (error instanceof Error ? error.message : 'request failed'),
    headers:
      typeof response.headers === 'object' && response.headers !== null
        ? (response.headers as Record<string, unknown>)
        : {},
    data,
  };
}

/** A 403 or 429 that asks to wait (primary or secondary rate limit), not a refusal of the token. */
export function isRateLimited(failure: HttpFailure): boolean {
  if (failure.status !== 403 && failure.status !== 429) return false;
  return (
    failure.status === 429 ||
    failure.headers['retry-after'] !== undefined ||
    failure.headers['x-ratelimit-remaining'] === '0' ||
    /rate limit/i.test(failure.message)
  );
}

/** True for a failure after which the call may or may not have taken effect: 5xx or no answer. */
export function mayHaveHappened(error: unknown): boolean {
  const failure = httpFailure(error);
  // Octokit reports a failed fetch (no answer at all) as status 500.
  return failure === null || failure.status >= 500;
}

/** Removes anything shaped like a GitHub token, and the given secrets, from text. */
export function withoutTokens(text: string, secrets: readonly string[] = []): string {
  let clean = text.replace(GITHUB_TOKEN, '[token]');
  for (const secret of secrets) if (secret) clean = clean.split(secret).join('[token]');
  return clean;
}

/**
 * Wraps an Octokit failure into a ForgeError whose message names the call: 5xx, no answer and rate
 * limits → 'forge-unavailable' (try later); 401/403 → 'forge-auth'; 404 → `notFound` (default
 * 'forge-refused'); any other 4xx → 'forge-refused'.
 */
export function forgeError(call: string, error: unknown, options: { notFound?: ForgeErrorCode } = {}): ForgeError {
  if (error instanceof ForgeError) return error;
  const failure = httpFailure(error);
  if (!failure) {
    const detail = withoutTokens(error instanceof Error ? error.message : String(error));
    return new ForgeError('forge-unavailable', `GitHub ${call} failed: ${detail}`, undefined, { cause: error });
  }
  const code: ForgeErrorCode =
    failure.status >= 500 || isRateLimited(failure)
      ? 'forge-unavailable'
      : failure.status === 401 || failure.status === 403
        ? 'forge-auth'
        : failure.status === 404
          ? (options.notFound ?? 'forge-refused')
          : 'forge-refused';
  const wait =
    isRateLimited(failure) && failure.headers['retry-after'] !== undefined
      ? ` (retry after ${String(failure.headers['retry-after'])} s)`
      : '';
  return new ForgeError(
    code,
    `GitHub ${call} failed (HTTP ${failure.status}): ${withoutTokens(failure.message)}${wait}`,
    failure.status,
    { cause: error },
  );
}
