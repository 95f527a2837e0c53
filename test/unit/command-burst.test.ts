import { describe, expect, it } from 'vitest';
import { alreadyAnswered, arrivedDuringRun } from '../../src/orchestrate/github/command-burst.js';
import { sampleCommand } from '../contract/coord-store.contract.js';

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;

describe('a burst of /orchestrate commands', () => {
  it('is judged by when each command arrived, not when it is processed', () => {
    const command = { receivedAt: at(10) };
    expect(arrivedDuringRun(command, null)).toBe(false);
    expect(arrivedDuringRun(command, { state: 'planning', updatedAt: at(5) })).toBe(true);
    // Ended after the command arrived (it waited behind the command that started the run).
    expect(arrivedDuringRun(command, { state: 'failed', updatedAt: at(12), finishedAt: at(11) })).toBe(true);
    // Ended before: the command is a new request.
    expect(arrivedDuringRun(command, { state: 'failed', updatedAt: at(12), finishedAt: at(9) })).toBe(false);
    // A record from before finishedAt existed: its last update stands for its end.
    expect(arrivedDuringRun(command, { state: 'succeeded', updatedAt: at(9) })).toBe(false);
  });

  it('is answered once per run on an issue; the rest is only recorded', () => {
    const current = sampleCommand('d-3', 3);
    const answered = sampleCommand('d-1', 1, { state: 'refused', runId: 'run-1', outcome: 'Run run-1 is already…' });
    const silent = sampleCommand('d-2', 2, { state: 'refused', runId: 'run-1', outcome: 'Run run-1…', posted: false });
    const otherIssue = sampleCommand('d-4', 4, { ...answered, id: 'd-4', issue: 2 });

    expect(alreadyAnswered([silent, otherIssue, current], current, 'run-1')).toBe(false);
    expect(alreadyAnswered([answered, silent, current], current, 'run-1')).toBe(true);
    expect(alreadyAnswered([answered, current], current, 'run-2')).toBe(false);
  });
});
