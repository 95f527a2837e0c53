import type { ResourceLimitKind } from './resource-limits.js';

/** A command hit one of its resource limits (`limits:`), again after the agent was told, or in setup. */
export type ResourceLimitReason = `resource-limit: ${ResourceLimitKind}`;

/** The failure reason for a limit a command hit. */
export function resourceLimitReason(kind: ResourceLimitKind): ResourceLimitReason {
  return `resource-limit: ${kind}`;
}

/** Whether a failure reason is a resource limit's. */
export function isResourceLimitReason(reason: string): reason is ResourceLimitReason {
  return reason.startsWith('resource-limit: ');
}

/** Why an agent's attempt stopped without finishing: its guards, its budgets, the model, a resource limit, or a stop. */
export type AgentFailureReason =
  | 'looping'
  | 'no-progress'
  | 'error-streak'
  | 'stalled'
  | 'step-budget'
  | 'time-budget'
  | 'token-budget'
  /** The model gateway refused a call past the agent's or the run's token or cost budget. */
  | 'budget'
  | 'model-error'
  | 'crashed'
  | 'cancelled'
  | ResourceLimitReason;

/** Why a subtask failed: its agent's reason, or what happened to the work after it finished. */
export type SubtaskFailureReason =
  | AgentFailureReason
  /** Changed files outside the write scope (or made files too large, links out, nested repositories). */
  | 'out-of-scope'
  | 'no-changes'
  /** The environment could not be prepared: not the agent's fault, not retried. */
  | 'setup-failed'
  | 'dependency-failed'
  /** Fanout's own write found the disk full: not the agent's fault; any `resume` runs it again. */
  | 'disk-full';

/** What an agent's log records, one event at a time. */
export type AgentEventType =
  | 'agent-started'
  | 'model-call'
  /** The gateway's view of one model call: its tokens, its cost (null: no known price), a budget's refusal. */
  | 'model-cost'
  | 'tool-call'
  | 'guard-hint'
  | 'agent-failed'
  | 'agent-finished'
  | 'committed'
  | 'out-of-scope'
  | 'too-large'
  | 'nested-repositories'
  | 'escaping-links'
  | 'validated'
  | 'shared-state-reverted';
