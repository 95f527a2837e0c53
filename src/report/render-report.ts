import { isResourceLimitReason } from '../domain/failure.js';
import { formatCost } from './format-cost.js';
import { plainText } from './plain-text.js';
import { formatTable } from './format-table.js';
import type { RunReport } from './run-report.js';

const SANDBOX_LINES: Readonly<Partial<Record<NonNullable<RunReport['sandbox']>, string>>> = {
  none: 'Sandbox: none (FANOUT_SANDBOX=none): agent commands could read and write outside their worktrees.',
  'none-as-root':
    'Sandbox: none, as root: agent commands could read and write outside their worktrees, system files (/usr/local/bin) and other checkouts included.',
};

const OUTPUT_LINES = 8;
// Failures of the environment (an install, a setup command): the agents did nothing wrong.
const ENVIRONMENT_FAILURES = new Set(['setup-failed']);

/** Why retrying a subtask that spent its budget does not help (the budgets hold across retries). */
export const BUDGET_ADVICE =
  'A budget was reached: a retry is held to the same budgets, which count every attempt and fix. To spend more, raise `budgets:` or `runBudgets:` in .github/fanout.yml and start a new run.';

/** What to do next, by kind of failure: fix the environment, or retry the agents. */
export function failureAdvice(runId: string, reasons: readonly string[]): string[] {
  const advice: string[] = [];
  if (reasons.some((reason) => ENVIRONMENT_FAILURES.has(reason))) {
    advice.push(
      `The environment could not be prepared: fix \`setup:\` in .github/fanout.yml (or the install it runs), then: fanout resume ${runId} --retry-failed`,
    );
  }
  if (reasons.includes('disk-full')) advice.push(`The disk filled up: free space, then: fanout resume ${runId}`);
  if (reasons.some(isResourceLimitReason))
    advice.push(
      'A command hit a resource limit and was stopped: if the work really needs more, raise `limits:` in .github/fanout.yml before retrying.',
    );
  if (reasons.includes('budget')) advice.push(BUDGET_ADVICE);
  if (reasons.some((reason) => !ENVIRONMENT_FAILURES.has(reason) && reason !== 'disk-full' && reason !== 'budget'))
    advice.push(`Retry the failed subtasks with: fanout resume ${runId} --retry-failed`);
  return advice;
}

/** The final report for a terminal: one row per subtask, then what failed and how to retry (`resumable: false`: a throwaway run). */
export function renderRunReport(report: RunReport, options: { resumable?: boolean } = {}): string {
  const unchecked = report.validateCommands === 0;
  const rows = report.subtasks.map((subtask) => [
    subtask.id,
    subtask.merged
      ? unchecked
        ? 'merged without checks'
        : 'merged'
      : subtask.state === 'cancelled'
        ? 'interrupted'
        : subtask.failure
          ? `failed: ${subtask.failure.reason}`
          : subtask.waiting
            ? `waiting: ${subtask.waiting.reason}`
            : subtask.state,
    subtask.pr ? `#${subtask.pr.number}` : '-',
    unchecked ? 'none' : (subtask.check ?? '-'),
    subtask.merged ? subtask.merged.slice(0, 8) : '-',
    subtask.agent ?? '-',
    String(subtask.steps),
    String(subtask.tokens.prompt + subtask.tokens.completion),
    ...(report.cost ? [subtask.cost ? formatCost(subtask.cost) : '-'] : []),
  ]);
  const merged = report.subtasks.filter((subtask) => subtask.merged).length;
  const lines = [
    `Run ${report.runId}: ${report.state.toUpperCase()} (${merged} of ${report.subtasks.length} merged into ${report.baseBranch})`,
    `Agents: ${report.agent}`,
    ...[report.sandbox && SANDBOX_LINES[report.sandbox]].filter((line): line is string => Boolean(line)),
    ...(report.commandLimits ? [`Limits: ${report.commandLimits}`] : []),
    ...(report.error ? [`Error: ${report.error}`] : []),
    ...(unchecked
      ? ['No validation configured (.github/fanout.yml has no validate:): pull requests merged without checks.']
      : []),
    '',
    formatTable(
      ['subtask', 'result', 'PR', 'check', 'commit', 'agent', 'steps', 'tokens', ...(report.cost ? ['cost'] : [])],
      rows,
    ),
  ];
  const failed = report.subtasks.filter((subtask) => subtask.failure && subtask.state !== 'cancelled');
  if (report.state === 'cancelled') {
    lines.push(
      '',
      options.resumable === false ? 'Interrupted.' : `Interrupted. Continue with: fanout resume ${report.runId}`,
    );
  }
  const waiting = report.subtasks.filter((subtask) => subtask.waiting);
  if (waiting.length > 0) {
    lines.push('', 'Waiting to merge:');
    for (const subtask of waiting) lines.push(`- ${subtask.id}: ${subtask.waiting!.message}`);
    const reviews = waiting.filter((subtask) =>
      ['review-required', 'approval-stale'].includes(subtask.waiting!.reason),
    );
    for (const subtask of reviews) lines.push(`Approve with: fanout approve ${report.runId} ${subtask.id}`);
    lines.push(`Then merge with: fanout resume ${report.runId}`);
  }
  if (failed.length > 0) {
    lines.push('', 'What failed:');
    for (const subtask of failed) {
      lines.push(
        `- ${subtask.id}: ${subtask.failure!.reason}${subtask.failure!.message ? `: ${subtask.failure!.message}` : ''}`,
      );
      for (const command of subtask.failedCommands ?? []) {
        const status = command.timedOut ? 'timed out' : `exit ${command.exitCode ?? '?'}`;
        lines.push(
          `    $ ${command.run}  (${status}, ${(command.durationMs / 1000).toFixed(1)} s)`,
          ...command.outputTail
            .trim()
            .split('\n')
            .slice(-OUTPUT_LINES)
            .map((line) => `      ${line}`),
        );
      }
    }
    lines.push(
      '',
      ...failureAdvice(
        report.runId,
        failed.map((subtask) => subtask.failure!.reason),
      ),
    );
    // Retried before and failed again: the same retry is unlikely to do better.
    const retried = failed.filter((subtask) => subtask.attempts > 2).map((subtask) => subtask.id);
    if (retried.length > 0) {
      lines.push(
        `${retried.join(', ')} failed again after --retry-failed: read fanout logs ${report.runId} <subtask> (every attempt) before retrying; a task or hint that says more may help.`,
      );
    }
  }
  const fixed = report.subtasks.filter((subtask) => subtask.fixes || subtask.needsHuman);
  if (fixed.length > 0) {
    lines.push('', 'Fix attempts:');
    for (const subtask of fixed) {
      for (const fix of subtask.fixes ?? []) {
        const result =
          fix.state === 'pushed' && fix.commit
            ? `pushed ${fix.commit.slice(0, 8)}`
            : fix.state === 'running'
              ? 'running'
              : `nothing pushed${fix.message ? ` (${fix.message})` : ''}`;
        lines.push(`- ${subtask.id} #${fix.number}, asked by ${fix.askedBy}: ${result}`);
      }
      if (subtask.needsHuman) lines.push(`- ${subtask.id} needs a person: ${subtask.needsHuman}`);
    }
  }
  if (failed.some((subtask) => subtask.pr && !subtask.needsHuman))
    lines.push(`Send an agent back to its pull request with: fanout fix ${report.runId} <subtask> "what to fix"`);
  for (const subtask of report.subtasks.filter((candidate) => candidate.reverted)) {
    lines.push(
      `warning: ${subtask.id}'s commands changed ${subtask.reverted!.map((path) => `.git/${path}`).join(', ')} in the shared repository; Fanout put them back.`,
    );
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const overhead = Object.entries(report.overhead).filter(([, ms]) => ms > 0);
  if (overhead.length > 0)
    lines.push(
      '',
      `Time by phase (summed over agents): ${overhead.map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`).join(', ')}`,
    );
  lines.push(
    `Tokens: ${report.tokens.prompt} prompt + ${report.tokens.completion} completion${report.cost ? `; cost: ${formatCost(report.cost)}` : ''}`,
  );
  return plainText(lines.join('\n'));
}
