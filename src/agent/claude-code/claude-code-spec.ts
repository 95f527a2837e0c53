import type { CliAgentSpec, CliInvocationInput } from '../cli/cli-spec.js';
import { reviewWrite } from '../cli/write-review.js';
import { CLAUDE_TOOLS, claudeSettings } from './settings.js';
import { parseClaudeLine } from './stream-events.js';

/** The Sonnet Claude Code asks for when the repository names no model (priced in the gateway's table). */
export const CLAUDE_CODE_DEFAULT_MODEL = 'claude-sonnet-5-5';

// Claude Code's tools that write files, and where each names the file.
const WRITE_TOOLS: Readonly<Record<string, string>> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};

/**
 * Claude Code (`claude -p`) as a Fanout backend (docs/agent-clis.md says what each flag does and
 * how it was checked): headless, its event stream as JSON lines with the raw API events (each
 * model call's usage, and a sign of life while a long answer streams), the given model through
 * Fanout's gateway, only its file tools and its shell, permissions answered by configuration and
 * nothing ever asked of a person, the repository's own Claude settings, MCP servers and slash
 * commands ignored, and every write asked of Fanout first through a PreToolUse hook.
 */
export const claudeCodeSpec: CliAgentSpec = {
  name: 'claude-code',
  defaultModel: CLAUDE_CODE_DEFAULT_MODEL,
  canResume: true,
  invocation({ prompt, request, model, resume }: CliInvocationInput) {
    return {
      args: [
        '-p',
        prompt,
        '--output-format',
        'stream-json',
        '--verbose',
        '--include-partial-messages',
        '--model',
        model.name,
        '--tools',
        CLAUDE_TOOLS.join(','),
        '--settings',
        JSON.stringify(claudeSettings(model)),
        // A repository's own .claude/settings*.json could allow or deny anything: ignored.
        '--setting-sources',
        '',
        '--strict-mcp-config',
        '--disable-slash-commands',
        // Anything that would still ask a person is refused instead of waiting for one.
        '--permission-prompts',
        'none',
        ...(resume ? ['--resume', resume] : []),
      ],
      // PATH and the rest of a command's base environment come from the runner.
      env: {
        ANTHROPIC_BASE_URL: model.urls.anthropic,
        // No telemetry, feature flags or update checks: the model calls are its only traffic.
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        // Its sockets and scratch files stay in the agent's private HOME (a sandbox has its own /tmp anyway).
        TMPDIR: request.home,
      },
    };
  },
  parseLine: parseClaudeLine,
  async reviewToolUse(use, request) {
    const field = WRITE_TOOLS[use.tool];
    if (!field) return null;
    const path = use.input[field];
    if (typeof path !== 'string' || path === '')
      return `write refused: Fanout could not tell which file this ${use.tool} call writes (no ${field}).`;
    return reviewWrite(path, request);
  },
};
