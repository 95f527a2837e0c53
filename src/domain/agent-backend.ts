/** The agent backends Fanout can run a subtask with; `builtin` is its own tool-calling loop. */
export const AGENT_BACKEND_NAMES = ['builtin', 'claude-code', 'codex'] as const;

/** One of the agent backends, as `.github/fanout.yml`, `--agent` and reports name it. */
export type AgentBackendName = (typeof AGENT_BACKEND_NAMES)[number];

/** Whether a string names a known agent backend. */
export function isAgentBackendName(name: string): name is AgentBackendName {
  return (AGENT_BACKEND_NAMES as readonly string[]).includes(name);
}
