import type { MergeFailureReason, MergeWaitReason } from '../domain/run.js';
import type { PullRequestReadiness } from '../ports/forge.js';

/** Whether a pull request may merge now, must wait, or is out of the queue. */
export type ReadinessVerdict =
  | { kind: 'ready'; approvedBy?: string }
  | { kind: 'waiting'; reason: MergeWaitReason; message: string }
  | { kind: 'failed'; reason: MergeFailureReason; message: string };

/**
 * Judges a head's checks and reviews (pure). Fanout's own validation must be present and green;
 * every other check or status (the repository's CI) must be green too; a review requesting changes
 * holds the merge; `approval: manual` needs an approving review by someone with write access.
 */
export function judgeReadiness(
  readiness: PullRequestReadiness,
  policy: { approval: 'auto' | 'manual'; validationCheck: string },
): ReadinessVerdict {
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
  if (readiness.changesRequestedBy.length > 0) {
    return {
      kind: 'waiting',
      reason: 'changes-requested',
      message: `changes requested by ${readiness.changesRequestedBy.join(', ')}`,
    };
  }
  if (policy.approval === 'manual') {
    if (readiness.approvedBy.length === 0)
      return {
        kind: 'waiting',
        reason: 'review-required',
        message: 'waiting for an approving review (approval: manual)',
      };
    return { kind: 'ready', approvedBy: readiness.approvedBy.join(', ') };
  }
  return { kind: 'ready' };
}
