import { ProbotOctokit } from 'probot';

// GitHub's secondary rate limits ("You have exceeded a secondary rate limit") come with
// retry-after; Probot's default only logs them. Fanout waits them out, twice at most.
const SECONDARY_LIMIT_RETRIES = 2;

/** Probot's Octokit with secondary rate limits waited out; 5xx retries stay on (plugin-retry). `throttle` adds throttling options (tests shorten the waits). */
export function fanoutOctokitClass(throttle: Record<string, unknown> = {}) {
  return ProbotOctokit.defaults((defaults: { throttle?: Record<string, unknown> }) => ({
    ...defaults,
    throttle: {
      ...defaults.throttle,
      ...throttle,
      onSecondaryRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        retryCount < SECONDARY_LIMIT_RETRIES,
    },
  }));
}

/** The App's Octokit class. */
export const FanoutOctokit = fanoutOctokitClass();
