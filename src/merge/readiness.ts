import type { BaseUpdate, MergeFailureReason, MergeWaitReason } from '../domain/run.js';
import type { PullRequestReadiness } from '../ports/forge.js';
import { sortApprovals } from './approved-heads.js';
import { ciWait } from './ci-wait.js';

/** Whether a pull request may merge now, must wait, or is out of the queue. */
export type ReadinessVerdict =
  | { kind: 'ready'; approvedBy?: string }
  | { kind: 'waiting'; reason: MergeWaitReason; message: string; retryAt?: string }
  | { kind: 'failed'; reason: MergeFailureReason; message: string };

/** How a head is judged: the approval policy, Fanout's own checks, and how long CI may take to appear. */
export interface ReadinessPolicy {
  approval: 'auto' | 'manual';
  validationCheck: string;
  /** The head to merge; approvals count for it only (or for a head Fanout updated into it). */
  head: string;
  /** Heads Fanout made by updating the branch with its base, each from the head before. */
  baseUpdates?: readonly BaseUpdate[];
  /** Fanout's own check names (default: the validation check); every other check is the repository's CI. */
  ownChecks?: readonly string[];
  /** How long CI may take to appear on a head when no check is required by name (0: not waited for). */
  waitForChecksMs?: number;
  /** The time now (ms), for the CI grace period. */
  now?: number;
}

/**
 * Judges a head's checks and reviews (pure). Fanout's own validation must be present and green;
 * every other check or status (the repository's CI) must be green too, the checks branch
 * protection requires must have reported, and CI that appears is waited for (see `ciWait`); a
 * review requesting changes holds the merge; `approval: manual` needs an approving review by
 * someone with write access given on this head (or on one Fanout only updated with the base), and
 * branch protection's count of approving reviews holds under either policy.
 */
export function judgeReadiness(readiness: PullRequestReadiness, policy: ReadinessPolicy): ReadinessVerdict {
  const own = readiness.checks.find((check) => check.name === policy.validationCheck);
  if (own?.state === 'failure')
    return { kind: 'failed', reason: 'validation-failed', message: `${policy.validationCheck} failed on the head` };
  const red = readiness.checks.filter((check) => check.state === 'failure').map((check) => check.name);
  if (red.length > 0)
    return { kind: 'failed', reason: 'checks-failed', message: `checks failed on the head: ${red.join(', ')}` };
  const running = readiness.checks.filter((check) => check.state === 'pending').map((check) => check.name);
  if (!own) running.unshift(policy.validationCheck);
  if (running.length > 0)
    return {
      kind: 'waiting',
      reason: 'checks-pending',
      message: `waiting for checks: ${[...new Set(running)].join(', ')}`,
    };
  const ci = readiness.ci
    ? ciWait(readiness.ci, readiness.checks, {
        ownChecks: policy.ownChecks ?? [policy.validationCheck],
        waitForChecksMs: policy.waitForChecksMs ?? 0,
        now: policy.now ?? Date.now(),
      })
    : null;
  if (ci) return { kind: 'waiting', reason: 'checks-pending', ...ci };
  if (readiness.changesRequestedBy.length > 0) {
    return {
      kind: 'waiting',
      reason: 'changes-requested',
      message: `changes requested by ${readiness.changesRequestedBy.join(', ')}`,
    };
  }
  return judgeApprovals(readiness, policy);
}

/** Enough approvals given on this head for the policy and for branch protection, or why not. */
function judgeApprovals(readiness: PullRequestReadiness, policy: ReadinessPolicy): ReadinessVerdict {
  const { current, stale } = sortApprovals(readiness.approvals, policy.head, policy.baseUpdates ?? []);
  const byProtection = readiness.ci?.requiredApprovals ?? 0;
  const needed = Math.max(policy.approval === 'manual' ? 1 : 0, byProtection);
  if (current.length >= needed)
    return current.length > 0
      ? { kind: 'ready', approvedBy: current.map((approval) => approval.by).join(', ') }
      : { kind: 'ready' };
  if (current.length === 0 && stale.length > 0)
    return {
      kind: 'waiting',
      reason: 'approval-stale',
      message: `approval is for an older head ${stale[0]!.headSha.slice(0, 7)}; a new approval is needed for ${policy.head.slice(0, 7)}`,
    };
  if (byProtection <= 1)
    return {
      kind: 'waiting',
      reason: 'review-required',
      message:
        byProtection === 1 && policy.approval === 'auto'
          ? 'waiting for an approving review (required by branch protection)'
          : 'waiting for an approving review (approval: manual)',
    };
  return {
    kind: 'waiting',
    reason: 'review-required',
    message: `waiting for ${byProtection} approving reviews (branch protection requires ${byProtection}; ${current.length} so far)`,
  };
}
