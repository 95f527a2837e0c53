/**
 * Whose spending a model call is: one agent, that is a subtask's every attempt, retry and fix
 * attempt (a subtask started over by `resume --retry-failed` too), and the run it belongs to.
 */
export interface SpendRef {
  runId: string;
  subtaskId: string;
}

/** An agent attempt, as the gateway knows the holder of a credential; charged as its subtask. */
export interface AgentRef extends SpendRef {
  attempt: number;
}

/** What an agent or a run has spent on model calls so far. */
export interface Spend {
  /** Input and output tokens, cached ones included. */
  tokens: number;
  /** Cost of the calls whose model has a price; see `unpricedCalls`. */
  usd: number;
  /** Calls whose model has no known price: their tokens count, their cost is not in `usd`. */
  unpricedCalls: number;
}

/** One metered call: its tokens, and its cost (null when the model has no known price). */
export interface SpendCharge {
  tokens: number;
  usd: number | null;
}

/**
 * Where model spending is kept, per agent (subtask) and per run. The gateway charges every metered
 * call and reads the totals before forwarding the next one. Runs span worker processes, so a
 * store-backed implementation adds atomically; the in-memory one serves a single process.
 */
export interface Ledger {
  /** Adds a call's tokens and cost to its subtask and to its run, both at once. */
  charge(ref: SpendRef, charge: SpendCharge): Promise<void>;
  /** What the subtask and its whole run have spent so far. */
  spent(ref: SpendRef): Promise<{ agent: Spend; run: Spend }>;
  /** Lets go of connections; charges made before are kept. */
  close(): Promise<void>;
}

/** Nothing spent yet. */
export const NO_SPEND: Readonly<Spend> = Object.freeze({ tokens: 0, usd: 0, unpricedCalls: 0 });
