import type { AgentReporter } from '../ports/agent-backend.js';
import type { CoordStore } from '../ports/coord-store.js';

export type { AgentReporter } from '../ports/agent-backend.js';

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
