import { describe, expect, it } from 'vitest';
import { callKey, initialGuardState, judgeStep, judgeToolCall } from '../../src/agent/guards.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';

const limits = {
  ...DEFAULT_LIMITS,
  repeatHintAt: 3,
  repeatCancelAt: 4,
  noProgressHintAfter: 2,
  noProgressCancelAfter: 4,
  errorStreakCancelAt: 3,
};

describe('guards', () => {
  it('hints at the third identical call and cancels at the fourth as looping', () => {
    const state = initialGuardState();
    const call = { name: 'list_directory', key: callKey('list_directory', '{"path":"."}'), ok: true };
    expect(judgeToolCall(state, limits, call).kind).toBe('continue');
    expect(judgeToolCall(state, limits, call).kind).toBe('continue');
    const third = judgeToolCall(state, limits, call);
    expect(third).toMatchObject({ kind: 'hint' });
    expect(third.kind === 'hint' && third.text).toContain('same list_directory call 3 times');
    expect(judgeToolCall(state, limits, call)).toMatchObject({ kind: 'cancel', reason: 'looping' });
  });

  it('treats argument spacing and key order as the same call, and a different call as a reset', () => {
    expect(callKey('read_file', '{"path":"a","startLine":1}')).toBe(
      callKey('read_file', '{ "startLine": 1, "path": "a" }'),
    );
    const state = initialGuardState();
    const a = { name: 'read_file', key: callKey('read_file', '{"path":"a"}'), ok: true };
    const b = { name: 'read_file', key: callKey('read_file', '{"path":"b"}'), ok: true };
    const c = { name: 'read_file', key: callKey('read_file', '{"path":"c"}'), ok: true };
    for (const call of [a, a, b, a, a, c]) expect(judgeToolCall(state, limits, call).kind).toBe('continue');
  });

  it('treats near-identical paths as one call: `.`, `./`, `src/..` and spaced-out arguments', () => {
    const keys = ['{"path":"."}', '{"path":"./"}', '{"path":"src/.."}', '{ "path" : " . " }', '{}'].map((raw) =>
      callKey('list_directory', raw),
    );
    expect(new Set(keys.slice(0, 4)).size).toBe(1);
    expect(callKey('read_file', '{"path":"./src//greet.js"}')).toBe(callKey('read_file', '{"path":"src/greet.js"}'));
    expect(callKey('run_command', '{"command":"npm   test "}')).toBe(callKey('run_command', '{"command":"npm test"}'));
    expect(callKey('read_file', '{"path":"src/a.js"}')).not.toBe(callKey('read_file', '{"path":"src/b.js"}'));
    const state = initialGuardState();
    const verdicts = keys
      .slice(0, 4)
      .map((key) => judgeToolCall(state, limits, { name: 'list_directory', key, ok: true }).kind);
    expect(verdicts).toEqual(['continue', 'continue', 'hint', 'cancel']);
  });

  it('cancels a cycle of up to 5 distinct calls repeated three times without a file change, with a hint a round earlier', () => {
    for (const length of [2, 3, 5]) {
      const state = initialGuardState();
      const cycle = Array.from({ length }, (_, n) => ({
        name: 'read_file',
        key: callKey('read_file', JSON.stringify({ path: `f${n}.js` })),
        ok: true,
      }));
      const verdicts = [...cycle, ...cycle, ...cycle].map((call) => judgeToolCall(state, limits, call));
      expect(verdicts.slice(0, 2 * length - 1).every((verdict) => verdict.kind === 'continue')).toBe(true);
      expect(verdicts[2 * length - 1]).toMatchObject({ kind: 'hint' });
      expect(verdicts.at(-1)).toMatchObject({
        kind: 'cancel',
        reason: 'looping',
        message: `repeated the same ${length} calls 3 times without changing a file`,
      });
    }
    // A file change between rounds starts the count again.
    const state = initialGuardState();
    const [a, b] = ['a', 'b'].map((name) => ({
      name: 'read_file',
      key: callKey('read_file', JSON.stringify({ path: name })),
      ok: true,
    }));
    for (const call of [a!, b!, a!, b!]) judgeToolCall(state, limits, call);
    judgeStep(state, limits, true);
    expect([a!, b!, a!, b!].map((call) => judgeToolCall(state, limits, call).kind)).not.toContain('cancel');
  });

  it('cancels three failing calls in a row as error-streak, and a success resets the streak', () => {
    const state = initialGuardState();
    const failing = (n: number) => ({ name: 'write_file', key: `w${n}`, ok: false });
    judgeToolCall(state, limits, failing(1));
    judgeToolCall(state, limits, failing(2));
    judgeToolCall(state, limits, { name: 'read_file', key: 'r', ok: true });
    judgeToolCall(state, limits, failing(3));
    judgeToolCall(state, limits, failing(4));
    expect(judgeToolCall(state, limits, failing(5))).toMatchObject({ kind: 'cancel', reason: 'error-streak' });
  });

  it('hints after N steps without a file change, then cancels as no-progress; progress resets it', () => {
    const state = initialGuardState();
    expect(judgeStep(state, limits, false).kind).toBe('continue');
    expect(judgeStep(state, limits, false).kind).toBe('hint');
    expect(judgeStep(state, limits, true).kind).toBe('continue');
    expect(judgeStep(state, limits, false).kind).toBe('continue');
    expect(judgeStep(state, limits, false).kind).toBe('hint');
    expect(judgeStep(state, limits, false).kind).toBe('continue');
    expect(judgeStep(state, limits, false)).toMatchObject({ kind: 'cancel', reason: 'no-progress' });
  });
});
