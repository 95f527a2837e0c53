import type { RepoConfig } from '../config/repo-config.js';
import { BUDGET_DEFAULTS, GUARD_DEFAULTS } from '../domain/agent-defaults.js';

/** Guard thresholds and budgets of one agent; every one can be overridden. */
export interface AgentLimits {
  /** The same call (tool + arguments) this many times in a row earns a corrective hint... */
  repeatHintAt: number;
  /** ...and this many cancels the agent as `looping`. */
  repeatCancelAt: number;
  /** Steps without a file change before a hint... */
  noProgressHintAfter: number;
  /** ...and before the agent is cancelled as `no-progress`. */
  noProgressCancelAfter: number;
  /** Failing tool calls in a row that cancel the agent as `error-streak`. */
  errorStreak: number;
  /** No completed step for this long cancels the agent as `stalled`. */
  stallMs: number;
  maxSteps: number;
  maxWallMs: number;
  maxTokens: number;
  /** Longest a single run_command may take. */
  commandTimeoutMs: number;
  /** Characters of one tool result the model sees. */
  toolOutputLimit: number;
  /** Tool results kept whole in the prompt; older ones are shortened. */
  keepRecentToolResults: number;
}

/** The limits of `.github/fanout.yml` (or its defaults), in the units the agent counts in. */
export function limitsFromConfig(config: Pick<RepoConfig, 'guards' | 'budgets'>): AgentLimits {
  const guards = config.guards ?? GUARD_DEFAULTS;
  return {
    repeatHintAt: guards.repeatHintAt,
    repeatCancelAt: guards.repeatCancelAt,
    noProgressHintAfter: guards.noProgressHintAfter,
    noProgressCancelAfter: guards.noProgressCancelAfter,
    errorStreak: guards.errorStreak,
    stallMs: guards.stallSeconds * 1000,
    maxSteps: config.budgets.maxSteps,
    maxWallMs: config.budgets.maxMinutes * 60_000,
    maxTokens: config.budgets.maxTokens,
    commandTimeoutMs: 10 * 60_000,
    toolOutputLimit: 12_000,
    keepRecentToolResults: 6,
  };
}

/** The limits when nothing is configured. */
export const DEFAULT_LIMITS: AgentLimits = limitsFromConfig({ budgets: { ...BUDGET_DEFAULTS } });
