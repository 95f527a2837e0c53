import type { SubtaskRecord } from '../domain/run.js';
import type { CoordStore } from '../ports/coord-store.js';
import { renderProgress } from '../report/render-progress.js';
import type { Output } from './output.js';

const REDRAW_MS = 150;

/**
 * Shows a run's progress from store changes: on a terminal a table redrawn in place, elsewhere
 * one line per subtask state change. Returns a function that stops it.
 */
export function showProgress(
  store: CoordStore,
  runId: string,
  output: Output,
  interactive: boolean,
): () => Promise<void> {
  let drawnLines = 0;
  let scheduled: NodeJS.Timeout | undefined;
  let stopped = false;
  const lastStates = new Map<string, string>();
  const draw = async () => {
    scheduled = undefined;
    const run = await store.getRun(runId);
    if (!run || stopped) return;
    const records = await store.listSubtasks(runId);
    if (interactive) {
      const text = renderProgress(run, records, Date.now(), process.stdout.columns || 80);
      if (drawnLines > 0) process.stdout.write(`\x1b[${drawnLines}A\x1b[J`);
      output.out(text);
      drawnLines = text.split('\n').length;
      return;
    }
    for (const record of records) {
      const state = describe(record);
      if (lastStates.get(record.subtaskId) === state) continue;
      lastStates.set(record.subtaskId, state);
      output.out(`[${Math.round((Date.now() - Date.parse(run.createdAt)) / 1000)}s] ${record.subtaskId}: ${state}`);
    }
  };
  const schedule = () => {
    scheduled ??= setTimeout(() => void draw(), REDRAW_MS);
  };
  const unsubscribe = store.watch(runId, schedule);
  // On a terminal the elapsed-time column keeps moving even when nothing changes.
  const ticker = interactive ? setInterval(schedule, 1_000) : undefined;
  schedule();
  return async () => {
    unsubscribe();
    clearInterval(ticker);
    clearTimeout(scheduled);
    await draw();
    stopped = true;
  };
}

function describe(record: SubtaskRecord): string {
  if (record.merge?.state === 'merged') return `merged (${record.merge.sha.slice(0, 8)})`;
  if (record.merge?.state === 'failed') return `not merged: ${record.merge.reason}`;
  if (record.state === 'succeeded')
    return `PR #${record.pr?.number ?? '?'} opened, check ${record.check?.passed ? 'passed' : 'failed'}`;
  if (record.state === 'failed')
    return `failed: ${record.failureReason ?? 'unknown'}${record.attempt > 1 ? ' (after a retry)' : ''}`;
  if (record.state === 'running') return record.attempt > 1 ? 'running (retry with a hint)' : 'running';
  return record.state;
}
