import type { AgentModelAccess } from './agent-backend.js';

/** One model call an agent made through the gateway, as its owner records it. */
export interface ModelCallReport {
  model: string | null;
  /** Null when the answer reported none. */
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Null when the model has no known price (never a guess). */
  costUsd: number | null;
  /** The HTTP status the agent got. */
  status: number;
  /** Refused by a budget: the message names the budget and the figure. */
  refusal?: string;
}

/** A tool call an agent CLI is about to make, as its PreToolUse hook tells it. */
export interface ToolUse {
  /** The CLI's own tool name (`Write`, `Edit`, `Bash`, `apply_patch`…). */
  tool: string;
  input: Record<string, unknown>;
}

/** What an agent is granted access for: who it is, which model, what it may spend, and who hears it. */
export interface ModelGrantRequest {
  runId: string;
  subtaskId: string;
  /** The attempt (1, 2…; fix attempts are numbered on). */
  attempt: number;
  model: string;
  /** The agent's budget, and its whole run's (both counted across every attempt and fix). */
  budget?: {
    agent?: { maxTokens?: number; maxUsd?: number };
    run?: { maxTokens?: number; maxUsd?: number };
  };
  /** The repository's `prices:`. */
  prices?: Record<string, { input: number; output: number; cachedInput?: number; cacheWrite?: number }>;
  /** Each model call of this agent, refused ones included. */
  onCall?: (call: ModelCallReport) => void;
  /** Asked before each tool call an agent CLI makes (its hook): a reason refuses the call, null lets it run. */
  onToolUse?: (use: ToolUse) => Promise<string | null>;
}

/** An agent's access to its model, until revoked. */
export interface ModelGrant {
  access: AgentModelAccess;
  /** Ends the access: the credential stops working. */
  revoke(): Promise<void>;
}

/** Fanout's model gateway, as the pipeline sees it: each agent gets a credential of its own. */
export interface ModelGrants {
  grant(request: ModelGrantRequest): Promise<ModelGrant>;
}
