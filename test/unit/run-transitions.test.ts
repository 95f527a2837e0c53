import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import type { RunRecord, SubtaskRecord } from '../../src/domain/run.js';
import {
  moveRun,
  runFinished,
  runPlanned,
  runTakenOver,
  stoppedByFullDisk,
  subtaskForResume,
} from '../../src/domain/run-transitions.js';

const run = (state: RunRecord['state'], extra: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r',
  repo: '/repo',
  origin: { kind: 'local', path: '/repo' },
  task: 't',
  baseBranch: 'main',
  baseCommit: 'a'.repeat(40),
  state,
  config: parseRepoConfig(null),
  notes: ['earlier'],
  createdAt: '',
  updatedAt: '',
  ...extra,
});
const subtask = (id: string, extra: Partial<SubtaskRecord> = {}): SubtaskRecord => ({
  runId: 'r',
  subtaskId: id,
  state: 'succeeded',
  attempt: 1,
  step: 3,
  updatedAt: '',
  ...extra,
});

describe('run state transitions', () => {
  it('refuses a move that cannot happen, naming both states', () => {
    expect(() => moveRun(run('succeeded'), 'planning')).toThrow('Run r cannot go from succeeded to planning.');
    expect(moveRun(run('running'), 'merging')).toEqual({ state: 'merging' });
  });

  it('waits for plan approval under plan: review, and keeps earlier notes', () => {
    const plan = { task: 't', subtasks: [] };
    expect(runPlanned(run('planning'), plan, ['merged two subtasks'], true)).toEqual({
      state: 'awaiting-approval',
      plan,
      notes: ['earlier', 'merged two subtasks'],
    });
    expect(runPlanned(run('planning'), plan, [], false).state).toBe('running');
  });

  it('ends succeeded, partial or failed by what merged', () => {
    const records = [
      subtask('a', { merge: { state: 'merged', sha: 's' } }),
      subtask('b', { merge: { state: 'failed', reason: 'conflict', message: 'x' } }),
    ];
    expect(runFinished(run('merging'), records, ['a'])).toEqual({ state: 'succeeded', finishedAt: expect.any(String) });
    expect(runFinished(run('merging'), records, ['a', 'b'])).toEqual({
      state: 'partial',
      finishedAt: expect.any(String),
    });
    expect(runFinished(run('merging'), records, ['b'])).toEqual({ state: 'failed', finishedAt: expect.any(String) });
  });

  it('never forgets that a run had no sandbox', () => {
    const owner = { pid: 1, host: 'h', since: '' };
    expect(runTakenOver(run('running', { sandbox: 'none' }), owner, 'bwrap')).toEqual({ owner });
    expect(runTakenOver(run('running', { sandbox: 'bwrap' }), owner, 'none')).toEqual({ owner, sandbox: 'none' });
    // Nor that it ran without one as root.
    expect(runTakenOver(run('running', { sandbox: 'none-as-root' }), owner, 'none')).toEqual({ owner });
    expect(runTakenOver(run('running', { sandbox: 'none' }), owner, 'none-as-root')).toEqual({
      owner,
      sandbox: 'none-as-root',
    });
  });

  it('resets for a resume only what was asked', () => {
    const failed = subtask('a', { state: 'failed', failureReason: 'looping' });
    expect(subtaskForResume(failed, false, 'now')).toBeNull();
    // Started over; what it spent stays counted, and its attempts number on.
    expect(subtaskForResume({ ...failed, attempt: 2, tokens: { prompt: 10, completion: 5 } }, true, 'now')).toEqual({
      runId: 'r',
      subtaskId: 'a',
      state: 'pending',
      attempt: 2,
      step: 0,
      earlier: { attempts: 2, tokens: { prompt: 10, completion: 5 } },
      tokens: { prompt: 10, completion: 5 },
      updatedAt: 'now',
    });
    // A second start over counts each start's tokens once: the record's already hold the earlier ones.
    const once = subtaskForResume({ ...failed, attempt: 2, tokens: { prompt: 10, completion: 5 } }, true, 'now')!;
    const again = { ...once, state: 'failed' as const, attempt: 4, tokens: { prompt: 30, completion: 15 } };
    expect(subtaskForResume(again, true, 'now')).toMatchObject({
      earlier: { attempts: 4, tokens: { prompt: 30, completion: 15 } },
      tokens: { prompt: 30, completion: 15 },
    });
    const refused = subtask('b', { merge: { state: 'failed', reason: 'conflict', message: 'x' } });
    // A run that moves on after a stop no longer carries what stopped it.
    expect(moveRun({ id: 'r', state: 'cancelled' }, 'running')).toEqual({
      error: undefined,
      finishedAt: undefined,
      state: 'running',
    });
    expect(moveRun({ id: 'r', state: 'running' }, 'cancelled', { error: 'interrupted' })).toEqual({
      error: 'interrupted',
      finishedAt: expect.any(String),
      state: 'cancelled',
    });
    expect(subtaskForResume(refused, true, 'now')).not.toHaveProperty('merge');
  });

  it('starts a subtask a full disk stopped over on a plain resume, and clears the stop from the run', () => {
    const stopped = subtask('a', { state: 'failed', attempt: 1, ...stoppedByFullDisk('the disk is full', 'then') });
    expect(subtaskForResume(stopped, false, 'now')).toMatchObject({ state: 'pending', earlier: { attempts: 1 } });
    expect(moveRun({ id: 'r', state: 'failed' }, 'running')).toMatchObject({ stoppedBy: undefined, state: 'running' });
  });
});
