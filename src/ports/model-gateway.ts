import type { AgentModelAccess } from './agent-backend.js';

/** What an agent is granted access for: who it is, which model, and what it may spend. */
export interface ModelGrantRequest {
  runId: string;
  subtaskId: string;
  /** The agent's log id (`<subtask>-<attempt>`, `<subtask>-fix<n>`). */
  agentId: string;
  model: string;
}

/** An agent's access to its model, until revoked. */
export interface ModelGrant {
  access: AgentModelAccess;
  /** Ends the access: the credential stops working. */
  revoke(): Promise<void>;
}

/** Fanout's model gateway, as the pipeline sees it: it grants each agent a credential of its own. */
export interface ModelGateway {
  grant(request: ModelGrantRequest): Promise<ModelGrant>;
}
