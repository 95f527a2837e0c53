import { describe, expect, it } from 'vitest';
import { callKey, initialGuardState, judgeBudgets, judgeStep, judgeToolCall } from '../../src/agent/guards.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';

const limits = {
  ...DEFAULT_LIMITS,
  repeatHintAt: 3,
  repeatCancelAt: 4,
  noProgressHintAfter: 2,
  noProgressCancelAfter: 4,
  errorStreak: 3,
};

/** Threads the guards' state through calls, as the agent loop does. */
function tracker() {
  let state = initialGuardState();
  return {
    call(call: { name: string; key: string; ok: boolean }) {
      const judged = judgeToolCall(state, limits, call);
      state = judged.state;
      return judged.verdict;
    },
    step(madeProgress: boolean) {
      const judged = judgeStep(state, limits, madeProgress);
      state = judged.state;
      return judged.verdict;
    },
  };
}

describe('guards', () => {
  it('are pure: the state given is never changed, the next one is returned', () => {
    const before = initialGuardState();
    const snapshot = JSON.stringify(before);
    const { state } = judgeToolCall(before, limits, { name: 'read_file', key: 'k', ok: false });
    judgeStep(state, limits, false);
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(state).toMatchObject({ lastCallKey: 'k', repeats: 1, errorStreak: 1 });
  });

  it('judges the budgets: steps, wall time and tokens', () => {
    const budgets = { ...limits, maxSteps: 10, maxWallMs: 1_000, maxTokens: 500 };
    expect(judgeBudgets(budgets, { steps: 9, elapsedMs: 999, tokens: 499 })).toEqual({ kind: 'continue' });
    expect(judgeBudgets(budgets, { steps: 10, elapsedMs: 0, tokens: 0 })).toMatchObject({
      kind: 'cancel',
      reason: 'step-budget',
    });
    expect(judgeBudgets(budgets, { steps: 0, elapsedMs: 1_000, tokens: 0 })).toMatchObject({
      kind: 'cancel',
      reason: 'time-budget',
    });
    expect(judgeBudgets(budgets, { steps: 0, elapsedMs: 0, tokens: 500 })).toMatchObject({
      kind: 'cancel',
      reason: 'token-budget',
    });
  });

  it('hints at the third identical call and cancels at the fourth as looping', () => {
    const state = tracker();
    const call = { name: 'list_directory', key: callKey('list_directory', '{"path":"."}'), ok: true };
    expect(state.call(call).kind).toBe('continue');
    expect(state.call(call).kind).toBe('continue');
    const third = state.call(call);
    expect(third).toMatchObject({ kind: 'hint' });
    expect(third.kind === 'hint' && third.text).toContain('same list_directory call 3 times');
    expect(state.call(call)).toMatchObject({ kind: 'cancel', reason: 'looping' });
  });

  it('treats argument spacing and key order as the same call, and a different call as a reset', () => {
    expect(callKey('read_file', '{"path":"a","startLine":1}')).toBe(
      callKey('read_file', '{ "startLine": 1, "path": "a" }'),
    );
    const state = tracker();
    const a = { name: 'read_file', key: callKey('read_file', '{"path":"a"}'), ok: true };
    const b = { name: 'read_file', key: callKey('read_file', '{"path":"b"}'), ok: true };
    const c = { name: 'read_file', key: callKey('read_file', '{"path":"c"}'), ok: true };
    for (const call of [a, a, b, a, a, c]) expect(state.call(call).kind).toBe('continue');
  });

  it('treats near-identical paths as one call: `.`, `./`, `src/..` and spaced-out arguments', () => {
    const keys = ['{"path":"."}', '{"path":"./"}', '{"path":"src/.."}', '{ "path" : " . " }', '{}'].map((raw) =>
      callKey('list_directory', raw),
    );
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(callKey('read_file', '{"path":"./src//greet.js"}')).toBe(callKey('read_file', '{"path":"src/greet.js"}'));
    expect(callKey('run_command', '{"command":"npm   test "}')).toBe(callKey('run_command', '{"command":"npm test"}'));
    expect(callKey('read_file', '{"path":"src/a.js"}')).not.toBe(callKey('read_file', '{"path":"src/b.js"}'));
    const state = tracker();
    const verdicts = keys.slice(0, 4).map((key) => state.call({ name: 'list_directory', key, ok: true }).kind);
    expect(verdicts).toEqual(['continue', 'continue', 'hint', 'cancel']);
  });

  it('cancels a cycle of up to 5 distinct calls repeated three times without a file change, with a hint a round earlier', () => {
    for (const length of [2, 3, 5]) {
      const state = tracker();
      const cycle = Array.from({ length }, (_, n) => ({
        name: 'read_file',
        key: callKey('read_file', JSON.stringify({ path: `f${n}.js` })),
        ok: true,
      }));
      const verdicts = [...cycle, ...cycle, ...cycle].map((call) => state.call(call));
      expect(verdicts.slice(0, 2 * length - 1).every((verdict) => verdict.kind === 'continue')).toBe(true);
      expect(verdicts[2 * length - 1]).toMatchObject({ kind: 'hint' });
      expect(verdicts.at(-1)).toMatchObject({
        kind: 'cancel',
        reason: 'looping',
        message: `repeated the same ${length} calls 3 times without changing a file`,
      });
    }
    // A file change between rounds starts the count again.
    const state = tracker();
    const [a, b] = ['a', 'b'].map((name) => ({
      name: 'read_file',
      key: callKey('read_file', JSON.stringify({ path: name })),
      ok: true,
    }));
    for (const call of [a!, b!, a!, b!]) state.call(call);
    state.step(true);
    expect([a!, b!, a!, b!].map((call) => state.call(call).kind)).not.toContain('cancel');
  });

  it('cancels three failing calls in a row as error-streak, and a success resets the streak', () => {
    const state = tracker();
    const failing = (n: number) => ({ name: 'write_file', key: `w${n}`, ok: false });
    state.call(failing(1));
    state.call(failing(2));
    state.call({ name: 'read_file', key: 'r', ok: true });
    state.call(failing(3));
    state.call(failing(4));
    expect(state.call(failing(5))).toMatchObject({ kind: 'cancel', reason: 'error-streak' });
  });

  it('hints after N steps without a file change, then cancels as no-progress; progress resets it', () => {
    const state = tracker();
    expect(state.step(false).kind).toBe('continue');
    expect(state.step(false).kind).toBe('hint');
    expect(state.step(true).kind).toBe('continue');
    expect(state.step(false).kind).toBe('continue');
    expect(state.step(false).kind).toBe('hint');
    expect(state.step(false).kind).toBe('continue');
    expect(state.step(false)).toMatchObject({ kind: 'cancel', reason: 'no-progress' });
  });
});
