import type { AgentLimits } from './limits.js';

export type AgentFailureReason =
  | 'looping'
  | 'no-progress'
  | 'error-streak'
  | 'stalled'
  | 'step-budget'
  | 'time-budget'
  | 'token-budget'
  | 'model-error'
  | 'crashed'
  | 'cancelled';

/** What the guards decided after a tool call or a step. */
export type GuardVerdict =
  | { kind: 'continue' }
  | { kind: 'hint'; text: string }
  | { kind: 'cancel'; reason: AgentFailureReason; message: string };

/** What the guards remember between calls. */
export interface GuardState {
  lastCallKey: string | null;
  repeats: number;
  repeatHinted: boolean;
  stepsWithoutProgress: number;
  progressHinted: boolean;
  errorStreak: number;
}

/** Guard state of an agent that has not started. */
export function initialGuardState(): GuardState {
  return { lastCallKey: null, repeats: 0, repeatHinted: false, stepsWithoutProgress: 0, progressHinted: false, errorStreak: 0 };
}

/** The identity of a call: tool name plus its arguments with keys sorted, so spacing does not hide a repeat. */
export function callKey(name: string, rawArguments: string): string {
  try {
    return `${name}:${JSON.stringify(sortKeys(JSON.parse(rawArguments)))}`;
  } catch {
    return `${name}:${rawArguments.trim()}`;
  }
}

/** Updates the state for one tool call and judges it: repeats and error streaks. */
export function judgeToolCall(state: GuardState, limits: AgentLimits, call: { name: string; key: string; ok: boolean }): GuardVerdict {
  state.repeats = call.key === state.lastCallKey ? state.repeats + 1 : 1;
  state.lastCallKey = call.key;
  state.errorStreak = call.ok ? 0 : state.errorStreak + 1;
  if (state.repeats >= limits.repeatCancelAt) {
    return { kind: 'cancel', reason: 'looping', message: `made the same ${call.name} call ${state.repeats} times in a row` };
  }
  if (state.errorStreak >= limits.errorStreakCancelAt) {
    return { kind: 'cancel', reason: 'error-streak', message: `${state.errorStreak} failing tool calls in a row` };
  }
  if (state.repeats >= limits.repeatHintAt && !state.repeatHinted) {
    state.repeatHinted = true;
    return {
      kind: 'hint',
      text: `You have made the same ${call.name} call ${state.repeats} times in a row; its result will not change. Use what you already have: read a specific file, or make the change with write_file or edit_file. Repeating it again cancels this attempt.`,
    };
  }
  if (state.repeats === 1) state.repeatHinted = false;
  return { kind: 'continue' };
}

/** Updates the state at the end of a step and judges progress (a file changed). */
export function judgeStep(state: GuardState, limits: AgentLimits, madeProgress: boolean): GuardVerdict {
  if (madeProgress) {
    state.stepsWithoutProgress = 0;
    state.progressHinted = false;
    return { kind: 'continue' };
  }
  state.stepsWithoutProgress += 1;
  if (state.stepsWithoutProgress >= limits.noProgressCancelAfter) {
    return { kind: 'cancel', reason: 'no-progress', message: `no file changed in ${state.stepsWithoutProgress} steps` };
  }
  if (state.stepsWithoutProgress >= limits.noProgressHintAfter && !state.progressHinted) {
    state.progressHinted = true;
    return {
      kind: 'hint',
      text: `${state.stepsWithoutProgress} steps have passed without a file change. You have enough context: write the change now with write_file or edit_file, then run the tests and call finish.`,
    };
  }
  return { kind: 'continue' };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
