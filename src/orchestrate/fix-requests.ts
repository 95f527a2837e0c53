import { FINISHED_RUN_STATES, FIX_INTERRUPTED, fixNotDone, moveRun } from '../domain/run-transitions.js';
import type { FixAttempt, FixTrigger, RunRecord, SubtaskRecord } from '../domain/run.js';
import type { CoordStore } from '../ports/coord-store.js';
import type { Forge } from '../ports/forge.js';
import { SCOPE_CHECK_NAME } from './publish.js';

/** Whether a red check starts a fix attempt: as configured, else on GitHub yes and locally no. */
export function fixOnRedCheck(run: Pick<RunRecord, 'config' | 'origin'>): boolean {
  return run.config.fixOnRedCheck ?? run.origin.kind === 'github';
}

/**
 * Whether the red checks on a head are something the agent could fix: not when the only red check
 * is `fanout/scope` (files outside the write scope, which the agent may not touch, most likely
 * pushed by a person).
 */
export async function redIsFixable(forge: Forge, headSha: string): Promise<boolean> {
  const failures = await forge.checkFailures(headSha);
  return failures.length === 0 || failures.some((failure) => failure.name !== SCOPE_CHECK_NAME);
}

/** Why a fix cannot be asked for on this subtask now, or null. */
export function fixRefusal(
  run: Pick<RunRecord, 'id' | 'state' | 'config'>,
  record: SubtaskRecord | null,
  subtaskId: string,
): string | null {
  if (run.config.maxFixAttempts === 0)
    return 'Fix attempts are off for this repository (`maxFixAttempts: 0` in `.github/fanout.yml`).';
  // Reopening a cancelled run would start the agents the person stopped.
  if (run.state === 'cancelled')
    return `Run \`${run.id}\` was cancelled; \`/orchestrate retry ${subtaskId}\` (or \`fanout resume\`) picks it up again.`;
  if (!record) return `There is no subtask \`${subtaskId}\` in this run.`;
  if (record.merge?.state === 'failed' && record.merge.reason === 'closed')
    return `Pull request #${record.pr?.number ?? '?'} was closed without merging; there is nothing to fix.`;
  if (!record.pr)
    return `\`${subtaskId}\` has no pull request to fix (${record.state}${record.failureReason ? `: ${record.failureReason}` : ''}); retry it instead.`;
  if (record.merge?.state === 'merged')
    return `\`${subtaskId}\` is already merged (pull request #${record.pr.number}).`;
  if (record.needsHuman)
    return `Pull request #${record.pr.number} was handed to a person: ${record.needsHuman.reason}.`;
  return null;
}

/**
 * Queues a fix request on a subtask's pull request and reopens its run if it had ended, so the
 * next pass of the run acts on it. The same review, or a red check on a head already asked about,
 * is queued once. Returns the refusal when the subtask cannot take a fix.
 */
export async function requestFix(
  store: CoordStore,
  run: RunRecord,
  subtaskId: string,
  trigger: FixTrigger,
): Promise<string | null> {
  const record = await store.getSubtask(run.id, subtaskId);
  const current = (await store.getRun(run.id)) ?? run;
  const refusal = fixRefusal(current, record, subtaskId);
  if (refusal || !record) return refusal;
  const known = [...(record.fixRequests ?? []), ...(record.fixes ?? []).map((fix) => fix.trigger)];
  if (!known.some((other) => sameRequest(other, trigger))) {
    await store.updateSubtask(run.id, subtaskId, { fixRequests: [...(record.fixRequests ?? []), trigger] });
  }
  if (FINISHED_RUN_STATES.has(current.state)) await store.updateRun(run.id, moveRun(current, 'merging'));
  return null;
}

/**
 * Takes one request off a subtask's queue, re-reading the record first: requests that arrived
 * while the caller worked (a review during a fix) stay queued.
 */
export async function consumeFixRequest(
  store: CoordStore,
  runId: string,
  subtaskId: string,
  trigger: FixTrigger,
): Promise<void> {
  const record = await store.getSubtask(runId, subtaskId);
  const queue = record?.fixRequests ?? [];
  const index = queue.findIndex((request) => JSON.stringify(request) === JSON.stringify(trigger));
  if (index === -1) return;
  await store.updateSubtask(runId, subtaskId, { fixRequests: [...queue.slice(0, index), ...queue.slice(index + 1)] });
}

/** Adds requests to a subtask's queue as it is now (never replacing what others queued meanwhile). */
export async function queueFixRequests(
  store: CoordStore,
  runId: string,
  subtaskId: string,
  triggers: readonly FixTrigger[],
): Promise<void> {
  if (triggers.length === 0) return;
  const record = await store.getSubtask(runId, subtaskId);
  const queue = record?.fixRequests ?? [];
  const known = [...queue, ...(record?.fixes ?? []).map((fix) => fix.trigger)];
  const added = triggers.filter((trigger) => !known.some((other) => sameRequest(other, trigger)));
  if (added.length > 0) await store.updateSubtask(runId, subtaskId, { fixRequests: [...queue, ...added] });
}

/** Subtasks with fix requests waiting. */
export function withPendingFixes(records: readonly SubtaskRecord[]): SubtaskRecord[] {
  return records.filter((record) => (record.fixRequests?.length ?? 0) > 0);
}

function sameRequest(a: FixTrigger, b: FixTrigger): boolean {
  if (a.kind === 'review' && b.kind === 'review') return a.reviewId === b.reviewId;
  if (a.kind === 'check' && b.kind === 'check') return a.headSha === b.headSha;
  // Two `fix` commands are two requests, even with the same words.
  return false;
}

/**
 * A fix attempt left `running` by a process that died (of those `which` picks): recorded as
 * interrupted, and what asked for it queued again, first. Nothing to do when none is running.
 */
export async function requeueInterruptedFixes(
  store: CoordStore,
  record: SubtaskRecord,
  which: (fix: FixAttempt) => boolean = () => true,
): Promise<void> {
  const lost = (fix: FixAttempt) => fix.state === 'running' && which(fix);
  const interrupted = (record.fixes ?? []).filter(lost);
  if (interrupted.length === 0) return;
  await store.updateSubtask(record.runId, record.subtaskId, {
    fixes: (record.fixes ?? []).map((fix) => (lost(fix) ? fixNotDone(fix, FIX_INTERRUPTED) : fix)),
    fixRequests: [...interrupted.map((fix) => fix.trigger), ...(record.fixRequests ?? [])],
  });
}
