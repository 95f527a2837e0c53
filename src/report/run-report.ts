import { addCosts, NO_COST, type ModelCost } from '../domain/model-cost.js';
import type { AgentBackendName } from '../domain/agent-backend.js';
import {
  agentBackendOf,
  type FailedCommand,
  type FixTrigger,
  type RunRecord,
  type SubtaskRecord,
} from '../domain/run.js';

/** The version of the JSON reports' shape; it changes when a field changes meaning or goes away. */
export const REPORT_SCHEMA_VERSION = 1;

/** What a run produced, per subtask: the machine-readable report (`fanout run --json`). */
export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  runId: string;
  task: string;
  repo: string;
  baseBranch: string;
  state: RunRecord['state'];
  /** The agent backend the run's subtasks run with (`agent:` in .github/fanout.yml, or `--agent`). */
  agent: AgentBackendName;
  /** `none` (or `none-as-root`) when agent commands ran without the sandbox (FANOUT_SANDBOX=none). */
  sandbox?: RunRecord['sandbox'];
  /** How each command's processes, memory, file size and disk were bounded, in words. */
  commandLimits?: string;
  /** How many validation commands the repository configures; 0: pull requests merged without checks. */
  validateCommands: number;
  error?: string;
  notes: string[];
  subtasks: Array<{
    id: string;
    title: string;
    state: SubtaskRecord['state'];
    /** The backend that ran its last attempt (absent before one started). */
    agent?: AgentBackendName;
    attempts: number;
    steps: number;
    branch?: string;
    pr?: { number: number; url: string };
    check?: 'passed' | 'failed';
    /** The validation commands that failed on the PR's head: command, exit code, duration, last output lines. */
    failedCommands?: FailedCommand[];
    merged?: string;
    failure?: { reason: string; message: string };
    /** Not merged yet, though nothing is wrong: checks running, a review to come, queued behind another. */
    waiting?: { reason: string; message: string };
    /** Who approved the merge: a reviewer, or Fanout's own policy. */
    approvedBy?: string;
    /** Shared git files this subtask's commands changed, which Fanout put back. */
    reverted?: string[];
    /** Fix attempts on the pull request: what asked, and what came of it. */
    fixes?: Array<{
      number: number;
      askedBy: string;
      state: 'running' | 'pushed' | 'not-fixed';
      commit?: string;
      message?: string;
    }>;
    /** Why Fanout handed the pull request to a person (label `fanout: needs human`). */
    needsHuman?: string;
    /** Where the agent ran last (`host:pid`): with several workers, which machine. */
    ranOn?: string;
    tokens: { prompt: number; completion: number };
    /** What its model calls cost, every attempt and fix attempt added (where a gateway priced them). */
    cost?: ModelCost;
  }>;
  tokens: { prompt: number; completion: number };
  /** The whole run's cost: its subtasks' added (present when any subtask's was recorded). */
  cost?: ModelCost;
  /** Milliseconds summed over subtasks, per phase: what running agents in parallel cost. */
  overhead: Record<string, number>;
}

/** Builds the report from stored state (pure). */
export function buildRunReport(run: RunRecord, records: readonly SubtaskRecord[]): RunReport {
  const order = [
    ...(run.plan?.subtasks.map((subtask) => subtask.id) ?? []),
    ...records.map((record) => record.subtaskId),
  ];
  const sorted = [...records].sort((a, b) => order.indexOf(a.subtaskId) - order.indexOf(b.subtaskId));
  const titleOf = (id: string) =>
    run.plan?.subtasks.find((subtask) => subtask.id === id)?.title ??
    (id === FALLBACK_ID ? 'Whole task, single agent (fallback)' : id);
  const subtasks = sorted.map((record) => {
    const failure =
      record.merge?.state === 'failed'
        ? { reason: record.merge.reason, message: record.merge.message }
        : record.state === 'failed' || record.state === 'cancelled'
          ? { reason: record.failureReason ?? 'failed', message: record.failureMessage ?? '' }
          : undefined;
    return {
      id: record.subtaskId,
      title: titleOf(record.subtaskId),
      state: record.state,
      ...(record.agent ? { agent: record.agent } : {}),
      attempts: record.attempt,
      steps: record.step,
      ...(record.branch ? { branch: record.branch } : {}),
      ...(record.pr ? { pr: { number: record.pr.number, url: record.pr.url } } : {}),
      ...(record.check ? { check: record.check.passed ? ('passed' as const) : ('failed' as const) } : {}),
      ...(record.check?.failed?.length ? { failedCommands: record.check.failed } : {}),
      ...(record.merge?.state === 'merged' ? { merged: record.merge.sha } : {}),
      ...(failure ? { failure } : {}),
      ...(record.merge?.state === 'waiting'
        ? { waiting: { reason: record.merge.reason, message: record.merge.message } }
        : {}),
      ...(record.merge?.state === 'merged' && record.merge.approvedBy ? { approvedBy: record.merge.approvedBy } : {}),
      ...(record.ranOn ? { ranOn: record.ranOn } : {}),
      ...(record.reverted?.length ? { reverted: record.reverted } : {}),
      ...(record.fixes?.length
        ? {
            fixes: record.fixes.map((fix) => ({
              number: fix.number,
              askedBy: askedBy(fix.trigger),
              state: fix.state,
              ...(fix.commit ? { commit: fix.commit } : {}),
              ...(fix.message ? { message: fix.message } : {}),
            })),
          }
        : {}),
      ...(record.needsHuman ? { needsHuman: record.needsHuman.reason } : {}),
      tokens: record.tokens ?? { prompt: 0, completion: 0 },
      ...(record.cost ? { cost: record.cost } : {}),
    };
  });
  const costs = subtasks.flatMap((subtask) => subtask.cost ?? []);
  const overhead: Record<string, number> = {};
  for (const record of records) {
    for (const [phase, ms] of Object.entries(record.timings ?? {}))
      overhead[phase] = Math.round((overhead[phase] ?? 0) + (ms ?? 0));
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    runId: run.id,
    task: run.task,
    repo: run.repo,
    baseBranch: run.baseBranch,
    state: run.state,
    agent: agentBackendOf(run),
    ...(run.sandbox ? { sandbox: run.sandbox } : {}),
    ...(run.commandLimits ? { commandLimits: run.commandLimits } : {}),
    validateCommands: run.config.validate.length,
    ...(run.error ? { error: run.error } : {}),
    notes: run.notes,
    subtasks,
    tokens: subtasks.reduce(
      (sum, s) => ({ prompt: sum.prompt + s.tokens.prompt, completion: sum.completion + s.tokens.completion }),
      { prompt: 0, completion: 0 },
    ),
    ...(costs.length > 0 ? { cost: costs.reduce((sum, cost) => addCosts(sum, cost), { ...NO_COST }) } : {}),
    overhead,
  };
}

/** Who or what asked for a fix, in words. */
function askedBy(trigger: FixTrigger): string {
  return trigger.kind === 'check'
    ? `red checks on ${trigger.headSha.slice(0, 8)}`
    : trigger.kind === 'review'
      ? `review by @${trigger.reviewer}`
      : `@${trigger.by}`;
}

/** Id of the single agent that takes the unsplit task when every planned agent failed. */
export const FALLBACK_ID = 'single-agent';
