import type { PlanResult } from '../plan/planner.js';
import { formatTable } from '../report/format-table.js';

/** The plan as a readable table, with each subtask's instructions below it. */
export function renderPlan(result: PlanResult): string {
  const { plan } = result;
  const header = `Plan for: ${plan.task}\n${plan.subtasks.length} subtask(s) after ${result.attempts} planner call(s)${plan.subtasks.length === 1 ? ' (runs as a single agent)' : ''}`;
  const rows = plan.subtasks.map((subtask, position) => [
    String(position + 1),
    subtask.id,
    subtask.title,
    subtask.writeScope.join(', '),
    subtask.dependsOn.join(', ') || '-',
  ]);
  const table = formatTable(['#', 'id', 'title', 'writes', 'after'], rows);
  const details = plan.subtasks.map((subtask, position) =>
    [
      `${position + 1}. ${subtask.id}: ${subtask.title}`,
      indent(subtask.instructions),
      subtask.readScope.length > 0 ? `   reads: ${subtask.readScope.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  const notes = result.notes.map((note) => `note: ${note}`);
  return [header, '', table, '', ...details, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}
