import type { AgentBackendName } from '../../domain/agent-backend.js';
import type { AgentModelAccess, AgentRequest } from '../../ports/agent-backend.js';
import type { CliEvent } from './cli-event.js';

/** A CLI's command line and the variables it needs (the runner adds no others but a scrubbed base). */
export interface CliInvocation {
  /** Arguments after the binary. */
  args: string[];
  env: Record<string, string>;
}

/** What the driver gives a backend to build its command line from. */
export interface CliInvocationInput {
  prompt: string;
  request: AgentRequest;
  access: AgentModelAccess;
  /** One more turn in this session (the CLI's own id), instead of a new session. */
  resume?: string;
}

/** One agent CLI: how to start it, and how to read its event stream. Everything else is the driver's. */
export interface CliAgentSpec {
  readonly name: AgentBackendName;
  /** The command line for a session, or for one more turn of it. */
  invocation(input: CliInvocationInput): CliInvocation;
  /** The events one line of the CLI's stdout says (none for a line it does not know). */
  parseLine(line: string): CliEvent[];
  /** Whether the CLI can take one more turn in the same session (`resume`). */
  readonly canResume: boolean;
}
