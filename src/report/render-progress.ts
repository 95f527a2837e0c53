import { plainText } from './plain-text.js';
import { formatTable } from './format-table.js';
import type { RunRecord, SubtaskRecord } from '../domain/run.js';

/**
 * Live rows, one per subtask: state, step, last tool, elapsed (pure; the CLI redraws it). No line
 * is wider than `width`: a line the terminal wraps would break the redraw in place.
 */
export function renderProgress(run: RunRecord, records: readonly SubtaskRecord[], now: number, width = 120): string {
  const fit = (text: string) =>
    text
      .split('\n')
      .map((line) => (line.length > width ? `${line.slice(0, Math.max(1, width - 1))}…` : line))
      .join('\n');
  return fit(progressText(run, records, now, width));
}

function progressText(run: RunRecord, records: readonly SubtaskRecord[], now: number, width: number): string {
  const started = Date.parse(run.createdAt);
  const header = `Run ${run.id} — ${run.state} — ${Math.round((now - started) / 1000)} s`;
  if (records.length === 0) return plainText(`${header}\n  (planning…)`);
  const unchecked = run.config.validate.length === 0;
  const rows = records.map((record) => [
    record.subtaskId,
    record.merge?.state === 'merged'
      ? unchecked
        ? 'merged without checks'
        : 'merged'
      : record.merge?.state === 'failed'
        ? `merge failed`
        : record.state,
    record.attempt > 1 ? `${record.step} (retry)` : String(record.step),
    record.lastTool ?? '-',
    elapsed(record, now),
    record.pr ? `#${record.pr.number}` : '-',
    unchecked ? 'none' : record.check ? (record.check.passed ? 'passed' : 'failed') : '-',
  ]);
  // Narrow terminals lose the less telling columns first.
  const columns = ['subtask', 'state', 'step', 'last tool', 'elapsed', 'PR', 'check'];
  const keep =
    width >= 90 ? columns : width >= 60 ? ['subtask', 'state', 'step', 'PR', 'check'] : ['subtask', 'state', 'check'];
  const picked = keep.map((name) => columns.indexOf(name));
  return plainText(
    `${header}\n${formatTable(
      keep,
      rows.map((row) => picked.map((index) => row[index] ?? '')),
    )}`,
  );
}

function elapsed(record: SubtaskRecord, now: number): string {
  if (!record.startedAt) return '-';
  const end = record.finishedAt ? Date.parse(record.finishedAt) : now;
  return `${Math.max(0, Math.round((end - Date.parse(record.startedAt)) / 1000))} s`;
}
