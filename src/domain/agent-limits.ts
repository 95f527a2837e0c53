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
