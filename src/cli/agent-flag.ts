import { AGENT_BACKEND_NAMES, isAgentBackendName, type AgentBackendName } from '../domain/agent-backend.js';
import { UsageError } from './errors.js';

/** What `--agent` says in a command's help. */
export const AGENT_FLAG_HELP = `--agent NAME runs this run's agents with that backend (${AGENT_BACKEND_NAMES.join(', ')}) instead of the one .github/fanout.yml names (agent:, default builtin).`;

/** The backend `--agent` names, exactly as Fanout spells it; anything else is a usage error naming those it knows. */
export function parseAgentFlag(value: string | undefined): AgentBackendName | undefined {
  if (value === undefined) return undefined;
  if (isAgentBackendName(value)) return value;
  throw new UsageError(`--agent ${value}: no such agent backend; Fanout knows ${AGENT_BACKEND_NAMES.join(', ')}.`);
}
