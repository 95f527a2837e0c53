import type { HeadCheck, RepositoryCi } from '../ports/forge.js';

/** Waiting for the repository's CI: what for, and when the wait ends by itself (if it does). */
export interface CiWait {
  message: string;
  retryAt?: string;
}

/**
 * What the repository's CI still owes a head whose every reported check is green (pure). With
 * required checks (branch protection, rulesets), each must have reported. Without, CI that appears
 * is waited for: a check suite with no run yet, or no check of the repository's own at all, holds
 * the merge until `waitForChecksMs` after the head's first check started; then it merges.
 */
export function ciWait(
  ci: RepositoryCi,
  checks: readonly HeadCheck[],
  options: { ownChecks: readonly string[]; waitForChecksMs: number; now: number },
): CiWait | null {
  const reported = new Set(checks.map((check) => check.name));
  const missing = ci.requiredChecks.filter((name) => !reported.has(name));
  if (missing.length > 0) return { message: `waiting for ${missing.join(', ')} (required by branch protection)` };
  // (A run recorded before the setting existed has none: NaN waits for nothing.)
  if (ci.requiredChecks.length > 0 || !(options.waitForChecksMs > 0)) return null;
  const since = ci.firstCheckAt ? Date.parse(ci.firstCheckAt) : options.now;
  const until = (Number.isNaN(since) ? options.now : since) + options.waitForChecksMs;
  if (until <= options.now) return null;
  const seconds = Math.round(options.waitForChecksMs / 1000);
  const retryAt = new Date(until).toISOString();
  if (ci.startingSuites.length > 0)
    return { message: `waiting for ${ci.startingSuites.join(', ')} to report (up to ${seconds} s)`, retryAt };
  const foreign = checks.filter((check) => !options.ownChecks.includes(check.name));
  if (foreign.length > 0) return null;
  return { message: `waiting for the repository's CI to report (up to ${seconds} s)`, retryAt };
}
