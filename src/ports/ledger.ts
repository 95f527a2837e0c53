/** The agent attempt a model call is charged to; its run is charged too. */
export interface AgentRef {
  runId: string;
  subtaskId: string;
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
 * Where model spending is kept, per agent attempt and per run. The gateway charges every metered
 * call and reads the totals before forwarding the next one. Runs span worker processes, so a
 * store-backed implementation must add atomically; the in-memory one serves a single process.
 */
export interface Ledger {
  /** Adds a call's tokens and cost to the agent attempt and to its run. */
  charge(agent: AgentRef, charge: SpendCharge): Promise<void>;
  /** What the agent attempt and its whole run have spent so far. */
  spent(agent: AgentRef): Promise<{ agent: Spend; run: Spend }>;
}

/** Nothing spent yet. */
export const NO_SPEND: Readonly<Spend> = Object.freeze({ tokens: 0, usd: 0, unpricedCalls: 0 });
