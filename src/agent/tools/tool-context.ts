import type { ProtectedPaths } from '../../domain/protected-paths.js';
import type { ResourceLimitKind, ResourceLimits } from '../../domain/resource-limits.js';
import type { CommandRunner } from '../../ports/command-runner.js';

/** What every tool of one agent may use: its worktree, its write scope, and a command runner. */
export interface ToolContext {
  /** Absolute, symlink-free path of the agent's worktree. */
  root: string;
  /** Normalized write-scope entries, shown to the model when a write is refused. */
  writeScope: readonly string[];
  /** Whether a repository-relative path may be written: `createWriteMatcher` of the scope (protected paths never). */
  canWrite: (relativePath: string) => boolean;
  /** The repository's protected paths (the defaults plus `protectedPaths:`), which no write scope grants. */
  protectedPaths: ProtectedPaths;
  runner: CommandRunner;
  /** Extra environment for commands (e.g. a private HOME); secrets are stripped by the runner anyway. */
  commandEnv: Record<string, string>;
  commandTimeoutMs: number;
  /** Characters of tool output the model gets back at most. */
  outputLimit: number;
  signal?: AbortSignal;
  /** The worktree's git directories from Fanout's own records, passed to every command (see CommandRequest). */
  git?: { gitDir: string; commonDir: string };
  /** Whether commands may reach the network; sandboxing runners deny it unless true. */
  network?: boolean;
  /** With `network`, the `networkAllow:` entries of the repository's config. */
  networkAllow?: readonly string[];
  /** What each command may take (`limits:`); the runner's defaults when absent. */
  limits?: ResourceLimits;
  /** Removes configured secrets from what the model is shown. */
  redact?: (text: string) => string;
  /**
   * The worktree's changed files (tracked or not, ignored ones excluded), each with a signature
   * that changes when the file does: compared around a command, it tells which files the command
   * changed (`sed -i`, a formatter, `git mv`), so tools and guards see that work too.
   */
  worktreeChanges?: () => Promise<ReadonlyMap<string, string> | null>;
}

/** A tool's answer: output for the model, or an error the model is told about (and that counts as one). */
export type ToolOutcome =
  | { ok: true; output: string; changedFiles?: string[]; finished?: { summary: string } }
  /** `limitExceeded`: a command was stopped at a resource limit (a second time fails the agent with it). */
  | { ok: false; error: string; limitExceeded?: ResourceLimitKind };

/** An expected tool failure whose message is meant for the model. */
export class ToolError extends Error {}
