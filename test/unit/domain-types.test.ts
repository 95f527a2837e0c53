import { describe, expect, it } from 'vitest';
import { FanoutError } from '../../src/domain/errors.js';
import type { AgentEventType, SubtaskFailureReason } from '../../src/domain/failure.js';
import type { SubtaskRecord } from '../../src/domain/run.js';

// These lines are checked by `tsc --noEmit` in `npm test`: a code, reason or event type that is
// not in the unions of domain/ does not compile.
describe('error codes, failure reasons and event types are unions in domain/', () => {
  it('accepts the known ones and refuses the rest at compile time', () => {
    const error = new FanoutError('run-not-found', 'no such run');
    const reason: SubtaskFailureReason = 'setup-failed';
    const event: AgentEventType = 'tool-call';
    // @ts-expect-error an unknown error code
    const unknownCode = new FanoutError('no-such-code', 'x');
    // @ts-expect-error an unknown failure reason
    const unknownReason: SubtaskRecord['failureReason'] = 'it-broke';
    // @ts-expect-error an unknown event type
    const unknownEvent: AgentEventType = 'something-happened';
    expect([error.code, reason, event, unknownCode.code, unknownReason, unknownEvent]).toHaveLength(6);
  });
});
