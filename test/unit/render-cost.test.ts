import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../../src/domain/run.js';
import { formatCost } from '../../src/report/format-cost.js';
import { pullRequestBody } from '../../src/report/pull-request-body.js';
import { renderEvents } from '../../src/report/render-events.js';
import { renderRunReport } from '../../src/report/render-report.js';
import { renderStatusComment } from '../../src/report/render-status-comment.js';
import { buildRunReport } from '../../src/report/run-report.js';

const run: RunRecord = {
  id: '20261124-120000-cost',
  repo: '/repo',
  task: 'Do it',
  baseBranch: 'main',
  baseCommit: 'b'.repeat(40),
  origin: { kind: 'local', path: '/repo' },
  state: 'partial',
  config: parseRepoConfig('validate:\n  - npm test\n'),
  notes: [],
  createdAt: '2026-11-24T12:00:00.000Z',
  updatedAt: '2026-11-24T12:01:00.000Z',
  plan: {
    task: 'Do it',
    subtasks: [
      { id: 'api', title: 'API', instructions: 'i', writeScope: ['src/api/'], readScope: [], dependsOn: [] },
      { id: 'ui', title: 'UI', instructions: 'i', writeScope: ['src/ui/'], readScope: [], dependsOn: [] },
    ],
  },
};
const base = { runId: run.id, updatedAt: run.updatedAt, attempt: 1 };
const records: SubtaskRecord[] = [
  {
    ...base,
    subtaskId: 'api',
    state: 'succeeded',
    step: 6,
    pr: { number: 7, url: 'u', headSha: 'c'.repeat(40) },
    check: { passed: true, headSha: 'c'.repeat(40), summary: '', durationMs: 10 },
    merge: { state: 'merged', sha: 'd'.repeat(40) },
    tokens: { prompt: 10_000, completion: 2_345 },
    cost: { usd: 0.0123, unpricedModels: [] },
  },
  {
    ...base,
    subtaskId: 'ui',
    state: 'failed',
    step: 3,
    failureReason: 'budget',
    failureMessage: 'Fanout budget reached: 2,013,400 of 2,000,000 tokens for this agent',
    tokens: { prompt: 2_000_000, completion: 13_400 },
    cost: { usd: 0.5, unpricedModels: ['my-vllm-model'] },
  },
];

describe('tokens and cost in what people read', () => {
  it('formats a cost in dollars, and names the models whose price is unknown', () => {
    expect(formatCost({ usd: 0.0123, unpricedModels: [] })).toBe('$0.0123');
    expect(formatCost({ usd: 0, unpricedModels: ['my-model'] })).toBe('cost unknown for my-model');
    expect(formatCost({ usd: 1.5, unpricedModels: ['a', 'b'] })).toBe('$1.5000 + cost unknown for a, b');
  });

  it('adds subtasks into the run in the report and status --json, and leaves cost out where none was recorded', () => {
    const report = buildRunReport(run, records);
    expect(report.subtasks.map((subtask) => subtask.cost)).toEqual([
      { usd: 0.0123, unpricedModels: [] },
      { usd: 0.5, unpricedModels: ['my-vllm-model'] },
    ]);
    expect(report.cost).toEqual({ usd: 0.5123, unpricedModels: ['my-vllm-model'] });
    const without = buildRunReport(
      run,
      records.map(({ cost: _cost, ...record }) => record),
    );
    expect(without).not.toHaveProperty('cost');
    expect(renderRunReport(without)).toMatch(/Tokens: 2010000 prompt \+ 15745 completion$/);
  });

  it('shows each subtask’s cost and the run’s in the terminal report', () => {
    expect(renderRunReport(buildRunReport(run, records))).toMatchSnapshot();
  });

  it('shows each subtask’s tokens and cost, and the run’s, in the status comment', () => {
    expect(renderStatusComment(run, records)).toMatchSnapshot();
  });

  it('says what the agent’s calls cost in its pull request', () => {
    const body = pullRequestBody({
      runId: run.id,
      subtask: run.plan!.subtasks[0]!,
      files: ['src/api/a.ts'],
      summary: 'Did it.',
      tokens: { prompt: 10_000, completion: 2_345 },
      cost: { usd: 0.0123, unpricedModels: [] },
    });
    expect(body).toContain(
      `<sub>Fanout run \`${run.id}\`, subtask \`api\`: 10000 prompt + 2345 completion tokens, $0.0123.</sub>`,
    );
  });

  it('logs each call’s cost as the gateway saw it, and the refusal that named a budget', () => {
    const at = '2026-11-24T12:00:01.000Z';
    const events: AgentEvent[] = [
      {
        seq: 1,
        at,
        type: 'model-cost',
        data: { model: 'gpt-4.1', usage: { promptTokens: 1200, completionTokens: 30 }, costUsd: 0.00264, status: 200 },
      },
      {
        seq: 2,
        at,
        type: 'model-cost',
        data: { model: 'my-model', usage: { promptTokens: 5, completionTokens: 1 }, costUsd: null, status: 200 },
      },
      {
        seq: 3,
        at,
        type: 'model-cost',
        data: {
          model: 'gpt-4.1',
          usage: null,
          costUsd: null,
          status: 429,
          refusal: 'Fanout budget reached: $1.20 of $1.00 for this run',
        },
      },
    ];
    expect(renderEvents(events).split('\n')).toEqual([
      '   1  12:00:01  model-cost     gpt-4.1, 1200+30 tokens, $0.0026',
      '   2  12:00:01  model-cost     my-model, 5+1 tokens, cost unknown for my-model',
      '   3  12:00:01  model-cost     refused: Fanout budget reached: $1.20 of $1.00 for this run',
    ]);
  });
});
