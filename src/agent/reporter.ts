import type { AgentEventType } from '../domain/failure.js';
import type { CoordStore } from '../ports/coord-store.js';

/** Where an agent reports what it does; events are for logs, progress for live displays. */
export interface AgentReporter {
  event(type: AgentEventType, data?: Record<string, unknown>): Promise<void>;
  progress(update: { step: number; lastTool?: string; tokens: { prompt: number; completion: number } }): Promise<void>;
}

/** Reports into the coordination store: the agent's event log and its subtask record. */
export function storeReporter(store: CoordStore, runId: string, subtaskId: string, agentId: string): AgentReporter {
  return {
    async event(type, data) {
      await store.appendEvent(runId, agentId, { type, ...(data ? { data } : {}) });
    },
    async progress({ step, lastTool, tokens }) {
      await store.updateSubtask(runId, subtaskId, { step, ...(lastTool ? { lastTool } : {}), tokens });
    },
  };
}
