import type { ModelCost } from '../domain/model-cost.js';
import type { RunRecord, SubtaskRecord } from '../domain/run.js';
import { formatCost } from './format-cost.js';
import { plainText } from './plain-text.js';
import { BUDGET_ADVICE } from './render-report.js';
import { buildRunReport, type RunReport } from './run-report.js';

/** Hidden marker that identifies a run's status comment among an issue's comments. */
export function statusMarker(runId: string): string {
  return `<!-- fanout:status run=${runId} -->`;
}

const STATE_WORDS: Readonly<Record<RunRecord['state'], string>> = {
  planning: '🗺️ Planning',
  'awaiting-approval': '⏸️ Waiting for plan approval',
  running: '🏃 Agents at work',
  merging: '🔀 Merging',
  succeeded: '✅ Done: everything merged',
  partial: '⚠️ Done, partly',
  failed: '❌ Failed',
  cancelled: '⏹️ Cancelled',
};

/**
 * The status comment Fanout keeps editing on the issue (pure): the plan, a row per subtask with
 * its PR and check, and once the run ends, what merged, what failed and why, and how to retry.
 */
export function renderStatusComment(run: RunRecord, records: readonly SubtaskRecord[]): string {
  const report = buildRunReport(run, records);
  const lines = [statusMarker(run.id), `### Fanout: ${STATE_WORDS[run.state]}`, '', `> ${run.task.split('\n')[0]}`, ''];
  if (run.sandbox === 'none') lines.push('**Sandbox: none.** Agent commands ran without the bubblewrap sandbox.', '');
  if (run.sandbox === 'none-as-root')
    lines.push('**Sandbox: none, as root.** Agent commands ran without the bubblewrap sandbox, as root.', '');
  if (!run.plan) {
    // The error says what stopped the run (planning, a red baseline, the model probe) in its own words.
    lines.push(
      run.state === 'failed'
        ? (run.error ?? 'The run failed before a plan was made.')
        : 'Planning the task into subtasks…',
    );
    return plainText(lines.join('\n'));
  }
  // With a gateway, each subtask's tokens and cost too.
  const spent = report.cost !== undefined;
  lines.push(
    `| # | Subtask | Agent | State | PR | Check |${spent ? ' Spent |' : ''}`,
    `| --- | --- | --- | --- | --- | --- |${spent ? ' --- |' : ''}`,
  );
  report.subtasks.forEach((subtask, index) => {
    lines.push(
      `| ${index + 1} | \`${subtask.id}\` ${escapeCell(subtask.title)} | ${subtask.agent ?? '–'} | ${escapeCell(stateCell(subtask))} | ${subtask.pr ? `#${subtask.pr.number}` : '–'} | ${checkCell(subtask.check)} |${spent ? ` ${escapeCell(spentCell(subtask.tokens, subtask.cost))} |` : ''}`,
    );
  });
  if (run.state === 'awaiting-approval') {
    lines.push('', 'Write scopes:');
    for (const subtask of run.plan.subtasks)
      lines.push(`- \`${subtask.id}\`: ${subtask.writeScope.map((entry) => `\`${entry}\``).join(', ')}`);
    lines.push('', 'Agents start after a maintainer comments `/orchestrate approve`.');
  }
  lines.push(...finalReport(run, report));
  lines.push(
    '',
    `<sub>Run \`${run.id}\` · ${report.tokens.prompt + report.tokens.completion} tokens${report.cost ? ` · ${formatCost(report.cost)}` : ''} · \`/orchestrate status\` refreshes this comment</sub>`,
  );
  return plainText(lines.join('\n'));
}

/** The comment a partial or failed run ends with: what failed and why, what merged, how to retry (pure). */
export function renderFailureReport(run: RunRecord, records: readonly SubtaskRecord[]): string {
  const report = buildRunReport(run, records);
  const failed = report.subtasks.filter((subtask) => subtask.failure);
  const merged = report.subtasks.filter((subtask) => subtask.merged);
  return plainText(
    [
      `Fanout run \`${run.id}\` ended **${run.state}**: ${merged.length} of ${report.subtasks.length} subtask(s) merged.`,
      '',
      ...(failed.length > 0
        ? [
            '**Failed:**',
            ...failed.map((subtask) => `- \`${subtask.id}\` ${subtask.failure!.reason}: ${subtask.failure!.message}`),
            '',
          ]
        : []),
      ...(merged.length > 0
        ? [
            '**Merged:**',
            ...merged.map(
              (subtask) =>
                `- \`${subtask.id}\`${subtask.pr ? ` #${subtask.pr.number}` : ''} as ${subtask.merged!.slice(0, 8)}`,
            ),
            '',
          ]
        : []),
      ...(run.error ? [`Error: ${run.error}`, ''] : []),
      ...retryLines(retryable(failed)),
      ...(failed.some((subtask) => subtask.failure!.reason === 'budget') ? [BUDGET_ADVICE] : []),
    ].join('\n'),
  );
}

function finalReport(run: RunRecord, report: RunReport): string[] {
  if (!['succeeded', 'partial', 'failed', 'cancelled'].includes(run.state)) return [];
  const lines = [''];
  const failed = report.subtasks.filter((subtask) => subtask.failure);
  if (run.error) lines.push(`**Error:** ${run.error}`);
  if (failed.length > 0) {
    lines.push(
      '**What failed:**',
      ...failed.map((subtask) => `- \`${subtask.id}\` ${subtask.failure!.reason}: ${subtask.failure!.message}`),
      '',
    );
    lines.push(...retryLines(retryable(failed)));
    if (failed.some((subtask) => subtask.failure!.reason === 'budget')) lines.push(BUDGET_ADVICE);
  }
  for (const note of report.notes) lines.push(`> ${note}`);
  return lines;
}

/** Failed subtasks a retry may help: not those that spent a budget (it still holds). */
function retryable(failed: RunReport['subtasks']): string[] {
  return failed.filter((subtask) => subtask.failure?.reason !== 'budget').map((subtask) => subtask.id);
}

function retryLines(ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  return ['Retry a subtask with a comment:', ...ids.map((id) => `\`/orchestrate retry ${id}\``)];
}

function stateCell(subtask: RunReport['subtasks'][number]): string {
  const fixes = subtask.fixes ?? [];
  const fixed = fixes.length > 0 ? ` (${fixes.length} fix attempt${fixes.length === 1 ? '' : 's'})` : '';
  if (subtask.merged) return `merged ${subtask.merged.slice(0, 8)}${fixed}`;
  if (subtask.needsHuman) return `🙋 needs a person: ${subtask.needsHuman}`;
  const running = fixes.find((fix) => fix.state === 'running');
  if (running) return `fixing: attempt ${running.number} for ${running.askedBy}`;
  if (subtask.failure) return `failed: ${subtask.failure.reason}`;
  if (subtask.waiting) return `waiting: ${subtask.waiting.message}`;
  if (subtask.state === 'running') return `running (step ${subtask.steps})`;
  return subtask.state;
}

function spentCell(tokens: { prompt: number; completion: number }, cost: ModelCost | undefined): string {
  const count = (tokens.prompt + tokens.completion).toLocaleString('en-US');
  return cost ? `${count} tokens, ${formatCost(cost)}` : `${count} tokens`;
}

function checkCell(check: 'passed' | 'failed' | undefined): string {
  return check === 'passed' ? '✅' : check === 'failed' ? '❌' : '–';
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
