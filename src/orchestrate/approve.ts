import { FanoutError } from '../domain/errors.js';
import type { RunRecord } from '../domain/run.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** Records a maintainer's approval of a subtask's PR (local mode's review) so the next resume merges it. */
export async function approveSubtask(deps: Pick<PipelineDeps, 'store' | 'forge'>, runId: string, subtaskId: string, reviewer: string): Promise<RunRecord> {
  const record = await deps.store.getSubtask(runId, subtaskId);
  if (!record?.pr) throw new FanoutError('nothing-to-approve', `Subtask "${subtaskId}" of run "${runId}" has no pull request to approve.`);
  await deps.forge.approve(record.pr.number, `approved by ${reviewer}`);
  const { merge, ...rest } = record;
  const waiting = merge?.state === 'failed' && merge.reason === 'not-approved';
  await deps.store.putSubtask({ ...rest, approved: true, ...(merge && !waiting ? { merge } : {}), updatedAt: new Date().toISOString() });
  return deps.store.updateRun(runId, { state: 'merging' });
}
