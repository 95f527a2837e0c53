import { DiskFullError } from '../domain/errors.js';
import { FINISHED_RUN_STATES, moveRun, stoppedByFullDisk } from '../domain/run-transitions.js';
import type { RunRecord, SubtaskRecord } from '../domain/run.js';
import { buildRunReport, type RunReport } from '../report/run-report.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { requireRun } from './run-records.js';

/** What a run that a full disk stopped says: the cause, and how to go on. */
export function fullDiskMessage(runId: string, error: DiskFullError): string {
  return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}: free space, then \`fanout resume ${runId}\`.`;
}

/** Subtasks the stop left without an outcome of their own: running, dispatched, or stopped by the halt. */
function interrupted(record: SubtaskRecord): boolean {
  if (record.state === 'pending') return record.dispatch !== undefined && record.dispatch.over !== true;
  return record.state === 'running' || (record.state === 'cancelled' && record.failureReason === 'cancelled');
}

/**
 * Ends a run a full disk stopped: `failed` with the cause and the resume hint, and every subtask
 * it interrupted failed as `disk-full` (a plain `resume` runs them again), written into the room
 * kept for them. The disk may refuse these writes still (no room kept, or taken meanwhile): the
 * report returned says the same either way, and a later `resume` takes the run up from whatever
 * the store holds (a `running` record left behind resumes as well).
 */
export async function stopForFullDisk(
  deps: Pick<PipelineDeps, 'store' | 'diskReserve'>,
  runId: string,
  error: DiskFullError,
): Promise<RunReport> {
  // The room kept for these records; what the agents left is freed by the person told to.
  await deps.diskReserve?.release().catch(() => undefined);
  const now = new Date().toISOString();
  const run = await requireRun(deps, runId);
  const message = fullDiskMessage(runId, error);
  const records: SubtaskRecord[] = [];
  for (const record of await deps.store.listSubtasks(runId)) {
    if (!interrupted(record)) {
      records.push(record);
      continue;
    }
    const patch = stoppedByFullDisk(`stopped: ${error.message}`, now);
    records.push({ ...record, ...patch });
    await deps.store.updateSubtask(runId, record.subtaskId, patch).catch(() => undefined);
  }
  const patch: Partial<RunRecord> = FINISHED_RUN_STATES.has(run.state)
    ? { error: message, stoppedBy: 'disk-full' }
    : moveRun(run, 'failed', { error: message, stoppedBy: 'disk-full' });
  await deps.store.updateRun(runId, patch).catch(() => undefined);
  return buildRunReport({ ...run, ...patch }, records);
}

/** Passes the work's outcome on; a full disk met on the way also halts the run. */
export async function haltOnFullDisk(work: Promise<void>, halt: (error: DiskFullError) => void): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (error instanceof DiskFullError) halt(error);
    throw error;
  }
}
