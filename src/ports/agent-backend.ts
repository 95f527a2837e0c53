import type { AgentLimits } from '../domain/agent-limits.js';
import type { AgentOutcome } from '../domain/agent-outcome.js';
import type { AgentBackendName } from '../domain/agent-backend.js';
import type { AgentEventType } from '../domain/failure.js';
import type { Subtask } from '../domain/plan.js';
import type { ProtectedPaths } from '../domain/protected-paths.js';
import type { ResourceLimits } from '../domain/resource-limits.js';
import type { ToolUse } from './model-grants.js';
import type { Worktree } from './workspace.js';

/** Where an agent reports what it does; events are for logs, progress for live displays. */
export interface AgentReporter {
  event(type: AgentEventType, data?: Record<string, unknown>): Promise<void>;
  progress(update: { step: number; lastTool?: string; tokens: { prompt: number; completion: number } }): Promise<void>;
}

/** One agent's work order: the subtask, where to do it, and the rules it works under. */
export interface AgentRequest {
  subtask: Subtask;
  /** The whole task the subtask is part of, for context. */
  overallTask?: string;
  /** A compact picture of the repository, so the agent need not explore it blind. */
  outline?: string;
  /** Why the previous attempt failed and what to do differently (a retry). */
  retryHint?: string;
  /** What a review or a failed check asked to fix (a fix attempt on an open pull request). */
  feedback?: string;
  /** The worktree the agent works in; nothing outside it is the agent's. */
  worktree: Worktree;
  /** Whether a repository-relative path may be written (the write scope; protected paths never). */
  canWrite: (relativePath: string) => boolean;
  /** Paths no agent may write whatever its scope (CI and ownership config, Fanout's own). */
  protectedPaths: ProtectedPaths;
  /** The agent's private, empty HOME for the commands it runs. */
  home: string;
  /** Whether the agent's commands may reach the network. */
  network: boolean;
  /** With `network`, what its commands may reach beyond the internet (`networkAllow:`). */
  networkAllow?: readonly string[];
  /** What each of its commands may take (`limits:`); the runner's defaults when absent. */
  resourceLimits?: ResourceLimits;
  limits: AgentLimits;
  /**
   * The worktree's changed files, each with a signature that changes when the file does: compared
   * around a command, it tells which files the command changed. Null when git could not say.
   */
  worktreeChanges: () => Promise<ReadonlyMap<string, string> | null>;
  /** Removes configured secrets from what the model is shown. */
  redact?: (text: string) => string;
  /** The agent's way to its model through Fanout's gateway. */
  model?: AgentModelAccess;
}

/**
 * Runs one agent on one worktree until it finishes or is stopped. Every backend reports the same
 * events (model calls with usage, tool calls with normalized arguments, files changed, errors) and
 * is watched by the same guards, so logs, reports and budgets do not depend on which one ran.
 * Expected failures are outcomes, never exceptions; aborting `signal` cancels the agent.
 */
export interface AgentBackend {
  readonly name: AgentBackendName;
  /** The model it asks for when the repository names none (`agent: { model }`). */
  readonly defaultModel?: string;
  /** The agent CLI it runs, as found and version-checked (backends that run one). */
  readonly binary?: CliBinary;
  run(request: AgentRequest, events: AgentReporter, signal?: AbortSignal): Promise<AgentOutcome>;
  /**
   * A tool call the agent is about to make, as its CLI's hook tells it: a reason refuses it (the
   * agent reads the reason), null lets it run. Backends whose tools are Fanout's own need none.
   */
  reviewToolUse?(use: ToolUse, request: AgentRequest): Promise<string | null>;
}

/**
 * The backends a deployment can run, by name (an agent CLI is found and its version checked the
 * first time); one it cannot run rejects with a ConfigError saying why.
 */
export type AgentBackends = (name: AgentBackendName) => Promise<AgentBackend>;

/**
 * How an agent reaches its model: Fanout's gateway with a credential of its own, never the real
 * key. `origin` is on the host's loopback; an agent in a sandbox without network reaches the
 * gateway's unix socket instead, through a relay inside the sandbox (another origin, same paths).
 */
export interface AgentModelAccess {
  /** The model the agent asks for. */
  model: string;
  /** This agent's credential for the gateway (useless anywhere else, revoked when the attempt ends). */
  credential: string;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The gateway's unix socket, when it has one. */
  socketPath?: string;
  /** Paths under an origin: the OpenAI base URL's (ending in /v1), the Anthropic one's, the tool-use hook. */
  paths: { openai: string; anthropic: string; toolUseHook: string };
}

/** Where an agent CLI's binary is, as found and version-checked by the composition root. */
export interface CliBinary {
  path: string;
  version: string;
  /** Directories the binary runs from, shown read-only in the sandbox. */
  installation: readonly string[];
}
