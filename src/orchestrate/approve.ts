import { FanoutError } from '../domain/errors.js';
import { moveRun } from '../domain/run-transitions.js';
import type { RunRecord } from '../domain/run.js';
import type { PipelineDeps } from './pipeline-deps.js';

/**
 * Records a maintainer's approving review of a subtask's pull request (`review` does it on the
 * forge) and puts the run back in the merge queue, so the next resume merges it.
 */
export async function approveSubtask(
  deps: Pick<PipelineDeps, 'store'>,
  runId: string,
  subtaskId: string,
  review: (prNumber: number) => Promise<void>,
): Promise<RunRecord> {
  const record = await deps.store.getSubtask(runId, subtaskId);
  if (!record?.pr)
    throw new FanoutError(
      'nothing-to-approve',
      `Subtask "${subtaskId}" of run "${runId}" has no pull request to approve.`,
    );
  if (record.merge?.state === 'merged')
    throw new FanoutError(
      'already-merged',
      `Subtask "${subtaskId}" is already merged (${record.merge.sha.slice(0, 8)}); nothing to approve.`,
    );
  await review(record.pr.number);
  const { merge, ...rest } = record;
  // A PR that was only waiting goes back in the queue; a failed merge stays failed.
  await deps.store.putSubtask({
    ...rest,
    ...(merge && merge.state !== 'waiting' ? { merge } : {}),
    updatedAt: new Date().toISOString(),
  });
  const run = await deps.store.getRun(runId);
  if (!run) throw new FanoutError('run-not-found', `No run "${runId}".`);
  return run.state === 'merging' ? run : deps.store.updateRun(runId, moveRun(run, 'merging'));
}
