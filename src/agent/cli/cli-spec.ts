import type { AgentBackendName } from '../../domain/agent-backend.js';
import type { AgentRequest } from '../../ports/agent-backend.js';
import type { ToolUse } from '../../ports/model-grants.js';
import type { CliEvent } from './cli-event.js';

/** A CLI's command line and the variables it needs (the runner adds no others but a scrubbed base). */
export interface CliInvocation {
  /** Arguments after the binary. */
  args: string[];
  env: Record<string, string>;
}

/** How the CLI reaches its model: Fanout's gateway, with the agent's own credential. */
export interface CliModel {
  /** The model to ask for. */
  name: string;
  /** The agent's credential (an API key as far as the CLI knows). */
  credential: string;
  /** OpenAI-compatible base URL (ending in /v1), Anthropic base URL, and the tool-use hook's URL. */
  urls: { openai: string; anthropic: string; toolUseHook: string };
  /** The tool-use hook as a command line, for CLIs whose hooks are commands. */
  hookCommand: readonly string[];
}

/** What the driver gives a backend to build its command line from. */
export interface CliInvocationInput {
  prompt: string;
  request: AgentRequest;
  model: CliModel;
  /** One more turn in this session (the CLI's own id), instead of a new session. */
  resume?: string;
}

/** What a line of the CLI's output is read against: the session it belongs to. */
export interface CliSession {
  /** The worktree the CLI runs in (its tools name absolute paths; Fanout's events name them relative to this). */
  worktree: string;
}

/** One agent CLI: how to start it, and how to read its event stream. Everything else is the driver's. */
export interface CliAgentSpec {
  readonly name: AgentBackendName;
  /** The model it asks for when the repository names none. */
  readonly defaultModel?: string;
  /** The command line for a session, or for one more turn of it. */
  invocation(input: CliInvocationInput): CliInvocation;
  /** The events one line of the CLI's stdout says (none for a line it does not know). */
  parseLine?(line: string, session: CliSession): CliEvent[];
  /**
   * A parser of one session's stream, for CLIs whose lines mean something only after the ones
   * before them (which model answer a tool item came from); used instead of `parseLine`.
   */
  streamParser?(request: AgentRequest): (line: string) => CliEvent[];
  /** Whether the CLI can take one more turn in the same session (`resume`). */
  readonly canResume: boolean;
  /** A tool call the CLI's PreToolUse hook asks about: a reason refuses it, null lets it run. */
  reviewToolUse?(use: ToolUse, request: AgentRequest): Promise<string | null>;
}
