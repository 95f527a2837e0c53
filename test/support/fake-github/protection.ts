import type { FakeRepo, FakeRequirements, FakeRole } from './state.js';

const WRITERS: ReadonlySet<FakeRole> = new Set(['admin', 'maintain', 'write']);
const GREEN = new Set(['success', 'neutral', 'skipped']);

/** What a branch requires, classic protection and rulesets together. */
export function requirementsOf(repo: FakeRepo, branch: string): FakeRequirements {
  const classic = repo.protection.get(branch);
  const ruleset = repo.rulesets.get(branch);
  return {
    requiredChecks: [...new Set([...(classic?.requiredChecks ?? []), ...(ruleset?.requiredChecks ?? [])])],
    requiredApprovals: Math.max(classic?.requiredApprovals ?? 0, ruleset?.requiredApprovals ?? 0),
  };
}

/** Whether the latest check run or commit status of `context` on `sha` passed. */
function passed(repo: FakeRepo, sha: string, context: string): boolean {
  const run = repo.checkRuns.filter((candidate) => candidate.headSha === sha && candidate.name === context).at(-1);
  if (run) return run.status === 'completed' && GREEN.has(run.conclusion ?? '');
  const status = repo.statuses.filter((candidate) => candidate.sha === sha && candidate.context === context).at(-1);
  return status?.state === 'success';
}

/** Approving reviews by writers on the PR (each user's latest deciding review), as GitHub counts them. */
function approvals(repo: FakeRepo, pull: number): number {
  const latest = new Map<string, string>();
  for (const review of repo.reviews.filter((candidate) => candidate.pull === pull))
    if (review.state !== 'COMMENTED') latest.set(review.user, review.state);
  return [...latest].filter(([user, state]) => state === 'APPROVED' && WRITERS.has(repo.roles.get(user) ?? 'none'))
    .length;
}

/** GitHub's words for the first requirement of the base branch that a merge of `head` does not meet, or null. */
export function unmetRequirement(repo: FakeRepo, pull: number, base: string, head: string): string | null {
  const required = requirementsOf(repo, base);
  const missing = required.requiredChecks.find((context) => !passed(repo, head, context));
  if (missing !== undefined) return `Required status check "${missing}" is expected.`;
  const count = required.requiredApprovals;
  if (approvals(repo, pull) < count)
    return `At least ${count} approving review${count === 1 ? ' is' : 's are'} required by reviewers with write access.`;
  return null;
}
