import type { RepoConfig } from '../config/repo-config.js';
import { BUDGET_DEFAULTS, GUARD_DEFAULTS } from '../domain/agent-defaults.js';
import type { AgentLimits } from '../domain/agent-limits.js';

export type { AgentLimits } from '../domain/agent-limits.js';

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
