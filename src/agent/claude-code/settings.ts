import type { CliModel } from '../cli/cli-spec.js';

/** The tools Claude Code offers the model: its file tools and its shell, nothing that reaches out. */
export const CLAUDE_TOOLS = ['Bash', 'Edit', 'Write', 'Read', 'Glob', 'Grep'] as const;

/** The tools whose calls Fanout's PreToolUse hook is asked about: every way to write, and the shell. */
export const REVIEWED_TOOLS = 'Write|Edit|MultiEdit|NotebookEdit|Bash';

/** Claude Code's `--settings` document for one Fanout agent. */
export interface ClaudeSettings {
  permissions: { allow: string[] };
  hooks: {
    PreToolUse: Array<{
      matcher: string;
      hooks: Array<{ type: 'http'; url: string; headers: Record<string, string>; timeout: number }>;
    }>;
  };
  env: Record<string, string>;
}

// Seconds Claude waits for the hook's answer. Hooks fail open: without an answer the call runs,
// and the commit's scope check still holds.
const HOOK_TIMEOUT_SECONDS = 30;

/**
 * The settings of a Fanout session: every offered tool allowed by configuration (as root,
 * `--dangerously-skip-permissions` is refused; Fanout's sandbox is the boundary, and unlike a
 * bypass, allow rules keep hooks working); each write and command first asked of Fanout through
 * the gateway's tool-use route, with the agent's credential; and the credential itself, because
 * the command runner drops every secret-named variable (ANTHROPIC_API_KEY) from a command's
 * environment, and Claude Code applies its settings' `env` as its own.
 */
export function claudeSettings(model: CliModel): ClaudeSettings {
  return {
    permissions: { allow: [...CLAUDE_TOOLS] },
    hooks: {
      PreToolUse: [
        {
          matcher: REVIEWED_TOOLS,
          hooks: [
            {
              type: 'http',
              url: model.urls.toolUseHook,
              headers: { Authorization: `Bearer ${model.credential}` },
              timeout: HOOK_TIMEOUT_SECONDS,
            },
          ],
        },
      ],
    },
    env: { ANTHROPIC_API_KEY: model.credential },
  };
}
