import type { z } from 'zod';

/** Renders zod issues as lines that name the bad key, e.g. `FANOUT_MODEL: must not be empty`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `- ${key || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}
