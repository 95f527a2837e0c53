import type { Spend } from '../../ports/ledger.js';

/** Token and cost ceilings; an absent one is no limit. */
export interface BudgetLimits {
  maxTokens?: number;
  maxUsd?: number;
}

/** The budgets a credential's calls are held to: its agent's (every attempt and fix of its subtask), and its whole run's. */
export interface AgentBudget {
  agent?: BudgetLimits;
  run?: BudgetLimits;
}

/** A budget that is spent, named with its figures (the agent ends as `budget` with `message`). */
export interface BudgetRefusal {
  scope: 'agent' | 'run';
  limit: 'tokens' | 'usd';
  spent: number;
  max: number;
  /** e.g. "Fanout budget reached: 2,013,400 of 2,000,000 tokens for this agent". */
  message: string;
}

/** The first budget the spending has reached (agent before run, tokens before cost), or null. */
export function budgetRefusal(spent: { agent: Spend; run: Spend }, budget: AgentBudget): BudgetRefusal | null {
  for (const scope of ['agent', 'run'] as const) {
    const limits = budget[scope];
    if (!limits) continue;
    const spend = spent[scope];
    if (limits.maxTokens !== undefined && spend.tokens >= limits.maxTokens) {
      return refusal(scope, 'tokens', spend.tokens, limits.maxTokens);
    }
    if (limits.maxUsd !== undefined && spend.usd >= limits.maxUsd) {
      return refusal(scope, 'usd', spend.usd, limits.maxUsd);
    }
  }
  return null;
}

/**
 * How many output tokens the next call may produce before a budget would be passed, or null when
 * no budget limits it; a cost budget counts only when the output price is known. At least 1 (a
 * call reaching here was not refused).
 */
export function outputTokensLeft(
  spent: { agent: Spend; run: Spend },
  budget: AgentBudget,
  outputUsdPerMillion: number | null,
): number | null {
  let left = Infinity;
  for (const scope of ['agent', 'run'] as const) {
    const limits = budget[scope];
    if (!limits) continue;
    if (limits.maxTokens !== undefined) left = Math.min(left, limits.maxTokens - spent[scope].tokens);
    if (limits.maxUsd !== undefined && outputUsdPerMillion) {
      left = Math.min(left, ((limits.maxUsd - spent[scope].usd) * 1_000_000) / outputUsdPerMillion);
    }
  }
  // The epsilon keeps float dust ($1 - $0.90 = $0.0999...) from costing a token.
  return left === Infinity ? null : Math.max(1, Math.floor(left + 1e-6));
}

function refusal(scope: 'agent' | 'run', limit: 'tokens' | 'usd', spent: number, max: number): BudgetRefusal {
  const figures =
    limit === 'tokens' ? `${tokens(spent)} of ${tokens(max)} tokens` : `${dollars(spent)} of ${dollars(max)}`;
  return { scope, limit, spent, max, message: `Fanout budget reached: ${figures} for this ${scope}` };
}

function tokens(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

function dollars(amount: number): string {
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}
