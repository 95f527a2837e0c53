import type { RepoConfig } from '../config/repo-config.js';
import type { RunRecord } from './run.js';

/** The budgets a model call is held to: its agent's (the subtask's, every attempt and fix counted) and its run's. */
export interface SpendBudgets {
  agent: { maxTokens?: number; maxUsd?: number };
  run: { maxTokens?: number; maxUsd?: number };
}

/** The run's `budgets:` and `runBudgets:` in the figures the gateway counts (records from before runBudgets have none). */
export function spendBudgets(
  config: Pick<RepoConfig, 'budgets'> & Partial<Pick<RepoConfig, 'runBudgets'>>,
): SpendBudgets {
  const run = config.runBudgets ?? {};
  return {
    agent: {
      maxTokens: config.budgets.maxTokens,
      ...(config.budgets.maxUsd !== undefined ? { maxUsd: config.budgets.maxUsd } : {}),
    },
    run: {
      ...(run.maxTokens !== undefined ? { maxTokens: run.maxTokens } : {}),
      ...(run.maxUsd !== undefined ? { maxUsd: run.maxUsd } : {}),
    },
  };
}

/** When a run's time is up, and what its agents are told then. */
export interface RunDeadline {
  /** Epoch milliseconds. */
  at: number;
  /** The reason a stopped agent's subtask carries, naming the figure. */
  message: string;
}

/**
 * The end of the run's time budget (`runBudgets.maxMinutes`, counted from the run's start), or null
 * without one. Every process computes the same instant from the record, so agents on any worker stop.
 */
export function runDeadline(run: Pick<RunRecord, 'config' | 'createdAt'>): RunDeadline | null {
  const minutes = (run.config as Partial<RepoConfig>).runBudgets?.maxMinutes;
  if (minutes === undefined) return null;
  const started = Date.parse(run.createdAt);
  if (!Number.isFinite(started)) return null;
  return {
    at: started + minutes * 60_000,
    message: `Fanout budget reached: the run's ${minutes.toLocaleString('en-US')} minutes (runBudgets.maxMinutes) are up`,
  };
}
