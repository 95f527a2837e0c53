import type { AgentFailureReason } from './failure.js';

export interface TokenTotals {
  prompt: number;
  completion: number;
}

/** How an agent ended; failures are values, not exceptions. */
export type AgentOutcome =
  | {
      kind: 'succeeded';
      summary: string;
      filesChanged: string[];
      /**
       * True when nothing but the file tools wrote (no command ran, no write failed half-way):
       * `filesChanged` is then every path that can differ from the start.
       */
      changesKnown: boolean;
      steps: number;
      tokens: TokenTotals;
      durationMs: number;
    }
  | {
      kind: 'failed';
      reason: AgentFailureReason;
      message: string;
      steps: number;
      tokens: TokenTotals;
      durationMs: number;
      /** Short lines describing the last tool calls, for reports and retry hints. */
      lastEvents: string[];
    };
