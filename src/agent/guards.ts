import { posix } from 'node:path';
import type { AgentFailureReason } from '../domain/failure.js';
import type { AgentLimits } from './limits.js';

export type { AgentFailureReason } from '../domain/failure.js';

/** What the guards decided after a tool call or a step. */
export type GuardVerdict =
  | { kind: 'continue' }
  | { kind: 'hint'; text: string }
  | { kind: 'cancel'; reason: AgentFailureReason; message: string };

/** What the guards remember between calls. */
export interface GuardState {
  lastCallKey: string | null;
  /** Call keys since a file last changed, for cycle detection. */
  sinceProgress: string[];
  cycleHinted: boolean;
  repeats: number;
  repeatHinted: boolean;
  stepsWithoutProgress: number;
  progressHinted: boolean;
  errorStreak: number;
}

/** Guard state of an agent that has not started. */
export function initialGuardState(): GuardState {
  return {
    lastCallKey: null,
    sinceProgress: [],
    cycleHinted: false,
    repeats: 0,
    repeatHinted: false,
    stepsWithoutProgress: 0,
    progressHinted: false,
    errorStreak: 0,
  };
}

// Arguments that name a path: `.`, `./` and `src/..` are one directory.
const PATH_ARGUMENTS = new Set(['path', 'paths', 'file', 'directory', 'dir', 'cwd']);
/** The longest cycle of distinct calls recognised as looping (the seed alternated 2 or 3). */
const MAX_CYCLE = 5;
/** A cycle repeated this many times without a file change is looping (a hint one round earlier). */
const CYCLE_CANCEL_ROUNDS = 3;

/**
 * The identity of a call: tool name plus its arguments normalized (keys sorted, strings trimmed
 * with inner whitespace collapsed, paths resolved), so that near-identical calls are the same call.
 */
export function callKey(name: string, rawArguments: string): string {
  try {
    return `${name}:${JSON.stringify(normalizeArguments(JSON.parse(rawArguments)))}`;
  } catch {
    return `${name}:${rawArguments.trim().replace(/\s+/g, ' ')}`;
  }
}

/** A guard's answer: the state after what it judged, and its verdict. */
export interface Judged {
  state: GuardState;
  verdict: GuardVerdict;
}

/** Judges one tool call (repeats, cycles, error streaks); the given state is left as it was. */
export function judgeToolCall(
  state: GuardState,
  limits: AgentLimits,
  call: { name: string; key: string; ok: boolean },
): Judged {
  const next: GuardState = { ...state, sinceProgress: [...state.sinceProgress] };
  return { state: next, verdict: toolCallVerdict(next, limits, call) };
}

/** Judges the budgets: steps, wall time and tokens spent so far. */
export function judgeBudgets(
  limits: AgentLimits,
  spent: { steps: number; elapsedMs: number; tokens: number },
): GuardVerdict {
  if (spent.steps >= limits.maxSteps)
    return { kind: 'cancel', reason: 'step-budget', message: `used all ${limits.maxSteps} steps` };
  if (spent.elapsedMs >= limits.maxWallMs) {
    return {
      kind: 'cancel',
      reason: 'time-budget',
      message: `ran for more than ${Math.round(limits.maxWallMs / 1000)} s`,
    };
  }
  if (spent.tokens >= limits.maxTokens) {
    return {
      kind: 'cancel',
      reason: 'token-budget',
      message: `used ${spent.tokens} tokens (budget ${limits.maxTokens})`,
    };
  }
  return { kind: 'continue' };
}

/** How long one model call or tool may stay silent: the stall limit, within the wall time left. */
export function silenceBound(limits: AgentLimits, elapsedMs: number): { stallMs: number; remainingWallMs: number } {
  return { stallMs: limits.stallMs, remainingWallMs: Math.max(limits.maxWallMs - elapsedMs, 1) };
}

// Works on a state of its own (a copy made by the caller).
function toolCallVerdict(
  state: GuardState,
  limits: AgentLimits,
  call: { name: string; key: string; ok: boolean },
): GuardVerdict {
  state.repeats = call.key === state.lastCallKey ? state.repeats + 1 : 1;
  state.lastCallKey = call.key;
  state.errorStreak = call.ok ? 0 : state.errorStreak + 1;
  state.sinceProgress.push(call.key);
  if (state.repeats >= limits.repeatCancelAt) {
    return {
      kind: 'cancel',
      reason: 'looping',
      message: `made the same ${call.name} call ${state.repeats} times in a row`,
    };
  }
  const cycle = repeatedCycle(state.sinceProgress);
  if (cycle && cycle.rounds >= CYCLE_CANCEL_ROUNDS) {
    return {
      kind: 'cancel',
      reason: 'looping',
      message: `repeated the same ${cycle.length} calls ${cycle.rounds} times without changing a file`,
    };
  }
  if (state.errorStreak >= limits.errorStreak) {
    return { kind: 'cancel', reason: 'error-streak', message: `${state.errorStreak} failing tool calls in a row` };
  }
  if (state.repeats >= limits.repeatHintAt && !state.repeatHinted) {
    state.repeatHinted = true;
    return {
      kind: 'hint',
      text: `You have made the same ${call.name} call ${state.repeats} times in a row; its result will not change. Use what you already have: read a specific file, or make the change with write_file or edit_file. Repeating it again cancels this attempt.`,
    };
  }
  if (cycle && cycle.rounds >= CYCLE_CANCEL_ROUNDS - 1 && !state.cycleHinted) {
    state.cycleHinted = true;
    return {
      kind: 'hint',
      text: `You are going round in circles: the same ${cycle.length} calls again, and no file changed. Their results will not change. Make the change now with write_file or edit_file; another round cancels this attempt.`,
    };
  }
  if (state.repeats === 1) state.repeatHinted = false;
  return { kind: 'continue' };
}

/** The shortest cycle (2 to 5 distinct calls) the calls end with, and how many times in a row it ran. */
export function repeatedCycle(keys: readonly string[]): { length: number; rounds: number } | null {
  for (let length = 2; length <= MAX_CYCLE; length += 1) {
    const block = keys.slice(-length);
    if (block.length < length || new Set(block).size < 2) continue;
    let rounds = 1;
    while (
      keys.length >= (rounds + 1) * length &&
      keys.slice(-(rounds + 1) * length, -rounds * length).every((key, index) => key === block[index])
    )
      rounds += 1;
    if (rounds >= 2) return { length, rounds };
  }
  return null;
}

/** Judges a finished step: progress (a file changed) or not; the given state is left as it was. */
export function judgeStep(state: GuardState, limits: AgentLimits, madeProgress: boolean): Judged {
  const next: GuardState = { ...state, sinceProgress: [...state.sinceProgress] };
  return { state: next, verdict: stepVerdict(next, limits, madeProgress) };
}

// Works on a state of its own (a copy made by the caller).
function stepVerdict(state: GuardState, limits: AgentLimits, madeProgress: boolean): GuardVerdict {
  if (madeProgress) {
    state.stepsWithoutProgress = 0;
    state.progressHinted = false;
    state.sinceProgress = [];
    state.cycleHinted = false;
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

function normalizeArguments(value: unknown, key?: string): unknown {
  if (typeof value === 'string')
    return key !== undefined && PATH_ARGUMENTS.has(key) ? normalizePath(value) : value.trim().replace(/\s+/g, ' ');
  if (Array.isArray(value)) return value.map((item) => normalizeArguments(item, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, normalizeArguments(v, k)]),
    );
  }
  return value;
}

/** `./src/`, `src/../src` and `src` are one path; `` and `./` are `.`. */
function normalizePath(path: string): string {
  const normal = posix.normalize(path.trim().replace(/\\/g, '/') || '.');
  return normal === '/' ? normal : normal.replace(/\/+$/, '') || '.';
}
