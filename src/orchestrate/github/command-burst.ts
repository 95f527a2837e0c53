import type { CommandRecord } from '../../domain/command.js';
import { FINISHED_RUN_STATES } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';

/**
 * Whether an `/orchestrate` command arrived while the issue's latest run was under way, or before
 * that run even started (it waited its turn behind the command that started it): then it starts
 * nothing. Decided by the command's arrival, not by when it is processed, so a burst of comments
 * starts one run even when that run ends before the rest of the burst is processed.
 */
export function arrivedDuringRun(
  command: Pick<CommandRecord, 'receivedAt'>,
  run: Pick<RunRecord, 'state' | 'updatedAt' | 'finishedAt'> | null,
): boolean {
  if (!run) return false;
  if (!FINISHED_RUN_STATES.has(run.state)) return true;
  // Records written before finishedAt existed: their last update is when they ended.
  return command.receivedAt < (run.finishedAt ?? run.updatedAt);
}

/**
 * Whether another `/orchestrate` command on the same issue was already answered that `runId` was
 * under way: the rest of a burst is recorded without a comment each (one reply, not 49).
 */
export function alreadyAnswered(
  commands: readonly CommandRecord[],
  command: Pick<CommandRecord, 'id' | 'issue' | 'target'>,
  runId: string,
): boolean {
  const repository = `${command.target.owner}/${command.target.repo}`.toLowerCase();
  return commands.some(
    (other) =>
      other.id !== command.id &&
      other.issue === command.issue &&
      `${other.target.owner}/${other.target.repo}`.toLowerCase() === repository &&
      other.command.kind === 'orchestrate' &&
      other.state === 'refused' &&
      other.runId === runId &&
      Boolean(other.outcome) &&
      other.posted !== false,
  );
}
