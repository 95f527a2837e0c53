import type { AgentRef } from '../../ports/ledger.js';
import type { BudgetRefusal } from './budget.js';
import type { ModelUsage } from './model-usage.js';
import type { GatewayApi } from './routes.js';

/** How a call through the gateway ended. */
export type GatewayCallOutcome =
  /** The upstream answered (any status, its own errors included). */
  | 'answered'
  /** The gateway refused it: a budget reached, a path it does not forward, a body too large. */
  | 'refused'
  /** The upstream could not be reached, timed out, or answered past the size cap. */
  | 'failed'
  /** The agent's client went away first; the upstream request was aborted. */
  | 'aborted';

/**
 * One call an agent made through the gateway, for its owner to record as the agent's model-call
 * event. `usage` is null when the answer reported none; `costUsd` is null when the model has no
 * known price (`price: 'unknown'`), never a guess.
 */
export interface GatewayCallEvent {
  agent: AgentRef;
  api: GatewayApi;
  /** The path under the API's base URL, e.g. `/chat/completions` or `/v1/messages`. */
  path: string;
  model: string | null;
  usage: ModelUsage | null;
  costUsd: number | null;
  price: 'config' | 'built-in' | 'unknown';
  /** The HTTP status the agent got (499 when it went away first). */
  status: number;
  durationMs: number;
  outcome: GatewayCallOutcome;
  /** The budget that refused the call, with its figures. */
  refusal?: BudgetRefusal;
  /** What went wrong, redacted. */
  error?: string;
}

/** Receives the gateway's call events; one that throws is ignored (the call is already over). */
export type GatewayCallListener = (event: GatewayCallEvent) => void;
