import type { TokenUsage } from '../../ports/llm.js';

/**
 * What an agent CLI's output stream says, in Fanout's terms: each backend parses its CLI's own
 * stream into these, so guards, logs and budgets work the same whatever the CLI.
 */
export type CliEvent =
  /** The CLI's session id, for one more turn in the same session. */
  | { kind: 'session-started'; sessionId: string }
  /** One answer of the model (one step), with the tokens it used when the CLI says. */
  | { kind: 'model-call'; usage: TokenUsage | null }
  /**
   * A tool call the model made, named as Fanout's tools are where one matches (`read_file`,
   * `write_file`, `edit_file`, `run_command`, `search`, `list_directory`), else the CLI's own name.
   */
  | { kind: 'tool-call'; id: string; tool: string; arguments: Record<string, unknown> }
  /** How a tool call ended; `changedFiles`, when the CLI says which files it wrote. */
  | { kind: 'tool-result'; id: string; ok: boolean; error?: string; changedFiles?: string[] }
  /**
   * The session ended: the agent's closing summary, or the CLI's error. `usage` is the session's
   * sum, or with `usageOfThread` the sum of every session of the thread so far (a resumed one too).
   */
  | {
      kind: 'finished';
      ok: boolean;
      summary: string;
      usage?: TokenUsage | null;
      usageOfThread?: boolean;
      costUsd?: number | null;
    };

/** Fanout's tools that run commands: while one runs, silence is the command working, not a stall. */
export const COMMAND_TOOLS: ReadonlySet<string> = new Set(['run_command']);

/** Fanout's tools that only look: after them, nothing in the worktree can have changed. */
export const READ_ONLY_TOOLS: ReadonlySet<string> = new Set(['read_file', 'search', 'list_directory']);
