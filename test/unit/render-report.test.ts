import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import type { RunRecord, SubtaskRecord } from '../../src/domain/run.js';
import { renderProgress } from '../../src/report/render-progress.js';
import { renderRunReport } from '../../src/report/render-report.js';
import { renderStatusComment } from '../../src/report/render-status-comment.js';
import { buildRunReport } from '../../src/report/run-report.js';

const run: RunRecord = {
  id: '20261124-120000-abcd',
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
      { id: 'docs', title: 'Docs', instructions: 'i', writeScope: ['docs/'], readScope: [], dependsOn: [] },
      { id: 'ui', title: 'UI', instructions: 'i', writeScope: ['src/ui/'], readScope: [], dependsOn: [] },
    ],
  },
};
const base = { runId: run.id, updatedAt: run.updatedAt, attempt: 1 };
const records: SubtaskRecord[] = [
  {
    ...base,
    subtaskId: 'ui',
    state: 'failed',
    step: 9,
    attempt: 2,
    failureReason: 'looping',
    failureMessage: 'made the same list_directory call 4 times in a row',
    tokens: { prompt: 900, completion: 100 },
    startedAt: '2026-11-24T12:00:05.000Z',
    finishedAt: '2026-11-24T12:00:47.000Z',
    lastTool: 'list_directory',
  },
  {
    ...base,
    subtaskId: 'api',
    state: 'succeeded',
    step: 6,
    branch: 'fanout/x/api',
    pr: { number: 7, url: 'u', headSha: 'c'.repeat(40) },
    check: { passed: true, headSha: 'c'.repeat(40), summary: '', durationMs: 10 },
    merge: { state: 'merged', sha: 'd'.repeat(40) },
    tokens: { prompt: 1000, completion: 200 },
    timings: { worktree: 200, agent: 5000, merge: 300 },
  },
  {
    ...base,
    subtaskId: 'docs',
    state: 'succeeded',
    step: 4,
    pr: { number: 8, url: 'u', headSha: 'e'.repeat(40) },
    check: { passed: false, headSha: 'e'.repeat(40), summary: '', durationMs: 10 },
    merge: {
      state: 'failed',
      reason: 'revalidation-failed',
      message: 'validation failed after updating the branch with main',
    },
    tokens: { prompt: 500, completion: 50 },
    timings: { worktree: 300, agent: 3000 },
  },
];

describe('run report', () => {
  it("names the backend the run used, and each subtask's (report, JSON, status comment)", () => {
    const chosen: RunRecord = { ...run, config: parseRepoConfig('validate:\n  - npm test\nagent: claude-code\n') };
    const ran = records.map((record) =>
      record.subtaskId === 'docs' ? record : { ...record, agent: 'claude-code' as const },
    );
    const report = buildRunReport(chosen, ran);
    expect(report.agent).toBe('claude-code');
    expect(report.subtasks.map((subtask) => [subtask.id, subtask.agent])).toEqual([
      ['api', 'claude-code'],
      ['docs', undefined],
      ['ui', 'claude-code'],
    ]);
    const text = renderRunReport(report);
    expect(text.split('\n')[1]).toBe('Agents: claude-code');
    expect(text).toMatch(/^subtask\s+result\s+PR\s+check\s+commit\s+agent\s+steps/m);
    expect(text).toMatch(/^api\s+merged\s+#7\s+passed\s+dddddddd\s+claude-code\s+6/m);
    expect(text).toMatch(/^docs\s+failed: revalidation-failed\s+#8\s+failed\s+-\s+-\s+4/m);
    const comment = renderStatusComment(chosen, ran);
    expect(comment).toContain('| # | Subtask | Agent | State | PR | Check |');
    expect(comment).toContain('| 1 | `api` API | claude-code | merged dddddddd | #7 | ✅ |');
    expect(comment).toContain('| 2 | `docs` Docs | – | failed: revalidation-failed | #8 | ❌ |');
  });

  it('lists subtasks in plan order with PR, check, merge or failure, and how to retry', () => {
    const report = buildRunReport(run, records);
    expect(report.subtasks.map((subtask) => subtask.id)).toEqual(['api', 'docs', 'ui']);
    expect(report.tokens).toEqual({ prompt: 2400, completion: 350 });
    expect(report.overhead).toEqual({ worktree: 500, agent: 8000, merge: 300 });
    expect(renderRunReport(report)).toMatchSnapshot();
  });

  it('renders live progress rows with elapsed time per subtask', () => {
    const text = renderProgress({ ...run, state: 'running' }, records, Date.parse('2026-11-24T12:01:00.000Z'));
    expect(text).toMatch(/^Run 20261124-120000-abcd — running — 60 s/);
    expect(text).toMatch(/ui\s+failed\s+9 \(retry\)\s+list_directory\s+42 s/);
    expect(text).toMatch(/api\s+merged\s+6\s+-\s+-\s+#7\s+passed/);
  });

  it('keeps every live line within a narrow terminal (60 columns), dropping the less telling columns', () => {
    const long = records.map((record) => ({
      ...record,
      subtaskId: `${record.subtaskId}-with-a-rather-long-subtask-identifier`,
    }));
    for (const width of [40, 60, 80]) {
      const text = renderProgress({ ...run, state: 'running' }, long, Date.parse('2026-11-24T12:01:00.000Z'), width);
      for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
    }
    expect(renderProgress({ ...run, state: 'running' }, records, Date.parse('2026-11-24T12:01:00.000Z'), 60)).toMatch(
      /api\s+merged\s+6\s+#7\s+passed/,
    );
  });

  it('says "merged without checks" in the table and the report when no validation is configured', () => {
    const unchecked = { ...run, config: parseRepoConfig(null) };
    const text = renderRunReport(buildRunReport(unchecked, records));
    expect(text).toMatch(/api\s+merged without checks\s+#7\s+none/);
    expect(text).toContain(
      'No validation configured (.github/fanout.yml has no validate:): pull requests merged without checks.',
    );
    expect(renderProgress({ ...unchecked, state: 'running' }, records, Date.parse('2026-11-24T12:01:00.000Z'))).toMatch(
      /api\s+merged without checks/,
    );
  });

  it('after a --retry-failed that failed again, points at the logs instead of only suggesting the same retry', () => {
    const retried = records.map((record) => (record.subtaskId === 'ui' ? { ...record, attempt: 4 } : record));
    const text = renderRunReport(buildRunReport(run, retried));
    expect(text).toContain(
      `ui failed again after --retry-failed: read fanout logs ${run.id} <subtask> (every attempt) before retrying`,
    );
  });

  it('says in the report and the status comment that commands ran without the sandbox, and as root when they did', () => {
    const asRoot = { ...run, sandbox: 'none-as-root' as const };
    expect(renderRunReport(buildRunReport(asRoot, records))).toContain(
      'Sandbox: none, as root: agent commands could read and write outside their worktrees, system files',
    );
    expect(renderStatusComment(asRoot, records)).toContain('**Sandbox: none, as root.**');
    expect(buildRunReport(asRoot, records).sandbox).toBe('none-as-root');
    expect(renderRunReport(buildRunReport({ ...run, sandbox: 'none' }, records))).toContain(
      'Sandbox: none (FANOUT_SANDBOX=none)',
    );
  });

  it('prints an agent-chosen file name or message without its terminal escapes', () => {
    const hostile = [
      {
        ...records[0]!,
        failureMessage:
          'changed files outside its write scope: x\u001b[2K\rRun OK: all merged\u001b]52;c;ZWNobyBwd24=\u0007',
      },
    ];
    const text = renderRunReport(buildRunReport(run, hostile));
    expect(text).not.toMatch(/[\u001b\u0007\r]/);
    expect(text).toContain('x\ufffd[2K\ufffdRun OK: all merged');
    expect(renderStatusComment(run, hostile)).not.toMatch(/[\u001b\u0007\r]/);
  });
});
