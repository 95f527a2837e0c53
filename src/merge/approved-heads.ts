import type { BaseUpdate } from '../domain/run.js';
import type { ReviewApproval } from '../ports/forge.js';

/**
 * The heads whose approval counts for `head`: the head itself and, back through Fanout's own
 * updates with the base, each head it was made from (the approver saw those changes; the rest came
 * from the base). Any other new commit, a person's push or Fanout's own fix, starts over.
 */
export function approvedHeads(head: string, updates: readonly BaseUpdate[]): Set<string> {
  const heads = new Set([head]);
  for (let current = head; ;) {
    const update = updates.find((candidate) => candidate.to === current);
    if (!update || heads.has(update.from)) return heads;
    heads.add(update.from);
    current = update.from;
  }
}

/** The approvals that count for `head` (`current`), and those given on an older head (`stale`). */
export function sortApprovals(
  approvals: readonly ReviewApproval[],
  head: string,
  updates: readonly BaseUpdate[],
): { current: ReviewApproval[]; stale: ReviewApproval[] } {
  const heads = approvedHeads(head, updates);
  return {
    current: approvals.filter((approval) => heads.has(approval.headSha)),
    stale: approvals.filter((approval) => !heads.has(approval.headSha)),
  };
}
