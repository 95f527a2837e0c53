/**
 * The defaults of an agent's guards and budgets, once: `.github/fanout.yml` documents and
 * validates them under these names and units, and the agent's limits are made from them.
 */
export const GUARD_DEFAULTS = {
  /** The same call this many times in a row earns a corrective hint... */
  repeatHintAt: 3,
  /** ...and this many cancels the agent as `looping`. */
  repeatCancelAt: 4,
  /** Steps without a file change before a hint... */
  noProgressHintAfter: 10,
  /** ...and before the agent is cancelled as `no-progress`. */
  noProgressCancelAfter: 15,
  /** Failing tool calls in a row that cancel the agent as `error-streak`. */
  errorStreak: 3,
  /** No answer from the model (or a tool) for this long cancels the agent as `stalled`. */
  stallSeconds: 180,
} as const;

/** Per-attempt budgets of an agent. */
export const BUDGET_DEFAULTS = {
  maxSteps: 60,
  maxMinutes: 30,
  maxTokens: 2_000_000,
} as const;
