import { plainText } from './plain-text.js';
import { formatTable } from './format-table.js';
import type { RunRecord, SubtaskRecord } from '../domain/run.js';

/** Live rows, one per subtask: state, step, last tool, elapsed (pure; the CLI redraws it). */
export function renderProgress(run: RunRecord, records: readonly SubtaskRecord[], now: number): string {
  const started = Date.parse(run.createdAt);
  const header = `Run ${run.id} — ${run.state} — ${Math.round((now - started) / 1000)} s`;
  if (records.length === 0) return plainText(`${header}\n  (planning…)`);
  const rows = records.map((record) => [
    record.subtaskId,
    record.merge?.state === 'merged' ? 'merged' : record.merge?.state === 'failed' ? `merge failed` : record.state,
    record.attempt > 1 ? `${record.step} (retry)` : String(record.step),
    record.lastTool ?? '-',
    elapsed(record, now),
    record.pr ? `#${record.pr.number}` : '-',
    record.check ? (record.check.passed ? 'passed' : 'failed') : '-',
  ]);
  return plainText(`${header}\n${formatTable(['subtask', 'state', 'step', 'last tool', 'elapsed', 'PR', 'check'], rows)}`);
}

function elapsed(record: SubtaskRecord, now: number): string {
  if (!record.startedAt) return '-';
  const end = record.finishedAt ? Date.parse(record.finishedAt) : now;
  return `${Math.max(0, Math.round((end - Date.parse(record.startedAt)) / 1000))} s`;
}
