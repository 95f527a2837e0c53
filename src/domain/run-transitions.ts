import { FanoutError } from './errors.js';
import type { ModelCost } from './model-cost.js';
import type { Plan } from './plan.js';
import type { FixAttempt, RunOwner, RunRecord, RunState, SandboxMode, SubtaskRecord } from './run.js';

// Which run states may follow which. A finished run moves again only when asked to retry.
const NEXT: Readonly<Record<RunState, readonly RunState[]>> = {
  planning: ['planning', 'awaiting-approval', 'running', 'failed', 'cancelled'],
  'awaiting-approval': ['running', 'cancelled', 'failed'],
  running: ['running', 'merging', 'failed', 'cancelled'],
  merging: ['merging', 'running', 'succeeded', 'partial', 'failed', 'cancelled'],
  succeeded: ['running', 'merging'],
  partial: ['running', 'merging'],
  failed: ['planning', 'running', 'merging'],
  cancelled: ['planning', 'running', 'merging'],
};

/** Run states in which nothing more happens unless someone asks (resume, retry). */
export const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set(['succeeded', 'partial', 'failed', 'cancelled']);

/** The patch that moves a run to `to`; an impossible move is a bug, not a user error. */
export function moveRun(
  run: Pick<RunRecord, 'id' | 'state'>,
  to: RunState,
  extra: Partial<RunRecord> = {},
): Partial<RunRecord> {
  if (!NEXT[run.state].includes(to))
    throw new FanoutError('bad-transition', `Run ${run.id} cannot go from ${run.state} to ${to}.`);
  // A run that moves on again (a resume, a retry) is no longer stopped by what stopped it before.
  const resumed = FINISHED_RUN_STATES.has(run.state) && !FINISHED_RUN_STATES.has(to);
  const finishing = !FINISHED_RUN_STATES.has(run.state) && FINISHED_RUN_STATES.has(to);
  return {
    ...(resumed ? { error: undefined, stoppedBy: undefined, finishedAt: undefined } : {}),
    ...(finishing ? { finishedAt: new Date().toISOString() } : {}),
    ...extra,
    state: to,
  };
}

// Weakest first: a run keeps the weakest confinement any of its processes had.
const SANDBOX_STRENGTH: readonly SandboxMode[] = ['none-as-root', 'none', 'bwrap'];

/** Recorded when a process takes a run over: its owner, and the weakest sandbox it has had. */
export function runTakenOver(
  run: RunRecord,
  owner: RunOwner,
  sandbox: SandboxMode | undefined,
  commandLimits?: string,
): Partial<RunRecord> {
  const weaker =
    sandbox !== undefined &&
    (run.sandbox === undefined || SANDBOX_STRENGTH.indexOf(sandbox) < SANDBOX_STRENGTH.indexOf(run.sandbox));
  return { owner, ...(weaker ? { sandbox } : {}), ...(commandLimits ? { commandLimits } : {}) };
}

/** The plan arrived: agents start, or wait for `/orchestrate approve` under `plan: review`. */
export function runPlanned(
  run: RunRecord,
  plan: Plan,
  notes: readonly string[],
  awaitApproval: boolean,
): Partial<RunRecord> {
  return moveRun(run, awaitApproval ? 'awaiting-approval' : 'running', { plan, notes: [...run.notes, ...notes] });
}

/** Adds a note people should read in the report. */
export function runNoted(run: RunRecord, note: string): Partial<RunRecord> {
  return { notes: [...run.notes, note] };
}

/** How a run ended, from which of its effective subtasks merged. */
export function runFinished(
  run: RunRecord,
  records: readonly SubtaskRecord[],
  effective: readonly string[],
): Partial<RunRecord> {
  const merged = effective.filter(
    (id) => records.find((record) => record.subtaskId === id)?.merge?.state === 'merged',
  ).length;
  return moveRun(run, merged === effective.length ? 'succeeded' : merged > 0 ? 'partial' : 'failed');
}

/**
 * A subtask whose agent job was lost mid-way (its worker killed): started again as pending, with
 * the lost attempts and their tokens counted as earlier ones, so new attempts number after them.
 */
export function subtaskAfterLostJob(record: SubtaskRecord, now: string): SubtaskRecord {
  const tokens = record.tokens ?? record.earlier?.tokens ?? { prompt: 0, completion: 0 };
  const cost = record.cost ?? record.earlier?.cost;
  return startedOver(
    record,
    Math.max(record.attempt, record.earlier?.attempts ?? 0),
    { tokens, ...(cost ? { cost } : {}) },
    record.dispatch,
    now,
  );
}

/** The subtask pending again, what it spent before counted as earlier attempts. */
function startedOver(
  record: SubtaskRecord,
  attempts: number,
  spent: { tokens: { prompt: number; completion: number }; cost?: ModelCost },
  dispatch: SubtaskRecord['dispatch'],
  now: string,
): SubtaskRecord {
  return {
    runId: record.runId,
    subtaskId: record.subtaskId,
    state: 'pending',
    attempt: record.attempt,
    step: 0,
    earlier: { attempts, ...spent },
    ...spent,
    ...(dispatch ? { dispatch } : {}),
    updatedAt: now,
  };
}

/**
 * A subtask record as a resume should see it: interrupted agents run again, and those a full disk
 * stopped (nothing they did was wrong); other failures too when asked.
 */
export function subtaskForResume(record: SubtaskRecord, retryFailed: boolean, now: string): SubtaskRecord | null {
  const stoppedByDisk = record.state === 'failed' && record.failureReason === 'disk-full';
  if (stoppedByDisk || (retryFailed && (record.state === 'failed' || record.state === 'cancelled'))) {
    // Started over, but what it spent stays counted: attempts go on numbering after these. The
    // record's tokens already hold what earlier starts spent (a job adds its own to them).
    const tokens = record.tokens ?? record.earlier?.tokens ?? { prompt: 0, completion: 0 };
    const cost = record.cost ?? record.earlier?.cost;
    // The next dispatch is numbered after this one's, which is over.
    const dispatch = record.dispatch ? { generation: record.dispatch.generation, over: true } : undefined;
    return startedOver(record, record.attempt, { tokens, ...(cost ? { cost } : {}) }, dispatch, now);
  }
  if (retryFailed && record.merge?.state === 'failed') {
    const { merge: _merge, ...rest } = record;
    return { ...rest, updatedAt: now };
  }
  return null;
}

/** The patch for a subtask a full disk stopped (its own write, or the run's): resumable, cause named. */
export function stoppedByFullDisk(message: string, now: string): Partial<SubtaskRecord> {
  return { state: 'failed', failureReason: 'disk-full', failureMessage: message, finishedAt: now };
}

/** The patch for an agent that never started because its run was cancelled first. */
export function cancelledBeforeStart(now: string): Partial<SubtaskRecord> {
  return {
    state: 'cancelled',
    failureReason: 'cancelled',
    failureMessage: 'the run was cancelled before this agent started',
    finishedAt: now,
  };
}

/** A fix attempt that ended without a fix from the agent: stopped (`interrupted`), or Fanout's own failure. */
export function fixNotDone(fix: FixAttempt, message: string): FixAttempt {
  return { ...fix, state: 'not-fixed', message, finishedAt: new Date().toISOString() };
}

/** What a fix attempt left running by a process that stopped says. */
export const FIX_INTERRUPTED = 'interrupted (Fanout stopped)';
