import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAUDE_CODE_REQUIREMENT } from '../../src/adapters/agent-cli/claude-code-requirement.js';
import { locateCli } from '../../src/adapters/agent-cli/locate-cli.js';
import { claudeCodeSpec } from '../../src/agent/claude-code/claude-code-spec.js';
import { parseClaudeLine } from '../../src/agent/claude-code/stream-events.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';
import { ConfigError } from '../../src/domain/errors.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { createWriteMatcher } from '../../src/domain/scope.js';
import type { AgentRequest } from '../../src/ports/agent-backend.js';
import { tempDir } from '../support/temp-dir.js';

const WORKTREE = '/work/trees/pool/3';
const session = { worktree: WORKTREE };
const line = (event: Record<string, unknown>) =>
  JSON.stringify({ session_id: 's-1', parent_tool_use_id: null, ...event });

describe("Claude Code's stream, read as Fanout's events", () => {
  it('takes the session id from init, and one model call per message from its message_delta, cache reads counted in', () => {
    expect(parseClaudeLine(line({ type: 'system', subtype: 'init', session_id: 'd049e226' }), session)).toEqual([
      { kind: 'session-started', sessionId: 'd049e226' },
    ]);
    const start = {
      type: 'stream_event',
      event: { type: 'message_start', message: { usage: { input_tokens: 100, output_tokens: 1 } } },
    };
    expect(parseClaudeLine(line(start), session)).toEqual([]);
    const delta = {
      type: 'stream_event',
      event: {
        type: 'message_delta',
        usage: { input_tokens: 100, cache_read_input_tokens: 40, cache_creation_input_tokens: 2, output_tokens: 30 },
      },
    };
    expect(parseClaudeLine(line(delta), session)).toEqual([
      { kind: 'model-call', usage: { promptTokens: 142, completionTokens: 30 } },
    ]);
  });

  it("counts nothing from assistant events' usage snapshots, and names tool calls as Fanout's tools with worktree paths", () => {
    const snapshot = { input_tokens: 100, output_tokens: 1 };
    const text = {
      type: 'assistant',
      message: { id: 'msg_1', content: [{ type: 'text', text: 'I will.' }], usage: snapshot },
    };
    const write = {
      type: 'assistant',
      message: {
        id: 'msg_1',
        usage: snapshot,
        content: [
          {
            type: 'tool_use',
            id: 'toolu_1',
            name: 'Write',
            input: { file_path: `${WORKTREE}/src/a.js`, content: 'a\n' },
          },
        ],
      },
    };
    expect(parseClaudeLine(line(text), session)).toEqual([]);
    expect(parseClaudeLine(line(write), session)).toEqual([
      { kind: 'tool-call', id: 'toolu_1', tool: 'write_file', arguments: { path: 'src/a.js', content: 'a\n' } },
    ]);
    const calls = [
      ['Edit', { file_path: `${WORKTREE}/b.js`, old_string: 'x', new_string: 'y' }],
      ['Read', { file_path: '/etc/passwd' }],
      ['Bash', { command: 'npm test', timeout: 60000, description: 'tests' }],
      ['Grep', { pattern: 'greet', path: WORKTREE, '-i': true }],
      ['Glob', { pattern: '**/*.js' }],
      ['WebFetch', { url: 'https://example.com' }],
    ] as const;
    const named = calls.map(([name, input], index) => {
      const use = { type: 'assistant', message: { content: [{ type: 'tool_use', id: `t${index}`, name, input }] } };
      const [event] = parseClaudeLine(line(use), session);
      return event?.kind === 'tool-call' ? [event.tool, event.arguments] : null;
    });
    expect(named).toEqual([
      ['edit_file', { path: 'b.js', oldText: 'x', newText: 'y' }],
      ['read_file', { path: '/etc/passwd' }],
      ['run_command', { command: 'npm test' }],
      ['search', { query: 'greet', path: '.', ignoreCase: true }],
      ['search', { files: '**/*.js' }],
      ['WebFetch', { url: 'https://example.com' }],
    ]);
  });

  it('reads tool results, a refusal by the hook as an error, and skips what subagents do', () => {
    const results = {
      type: 'user',
      message: {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'File created successfully' },
          { type: 'tool_result', tool_use_id: 'toolu_2', is_error: true, content: 'PreToolUse:Write hook error: no' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_3',
            is_error: true,
            content: [{ type: 'text', text: 'Exit code 3' }],
          },
        ],
      },
    };
    expect(parseClaudeLine(line(results), session)).toEqual([
      { kind: 'tool-result', id: 'toolu_1', ok: true },
      { kind: 'tool-result', id: 'toolu_2', ok: false, error: 'PreToolUse:Write hook error: no' },
      { kind: 'tool-result', id: 'toolu_3', ok: false, error: 'Exit code 3' },
    ]);
    const nested = { type: 'stream_event', parent_tool_use_id: 'toolu_9', event: { type: 'message_delta', usage: {} } };
    expect(parseClaudeLine(JSON.stringify(nested), session)).toEqual([]);
    expect(parseClaudeLine('not json', session)).toEqual([]);
  });

  it('ends with the result: its text as the summary, an API error not ok, usage summed and its own cost estimate', () => {
    const success = {
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'Done.',
      total_cost_usd: 0.005,
      usage: { input_tokens: 910, cache_read_input_tokens: 50, output_tokens: 70 },
    };
    expect(parseClaudeLine(line(success), session)).toEqual([
      {
        kind: 'finished',
        ok: true,
        summary: 'Done.',
        usage: { promptTokens: 960, completionTokens: 70 },
        costUsd: 0.005,
      },
    ]);
    const refused = {
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: 429,
      result: 'API Error: Request rejected (429) · Fanout budget reached: 1,100 of 1,000 tokens for this agent',
    };
    expect(parseClaudeLine(line(refused), session)).toEqual([
      expect.objectContaining({
        kind: 'finished',
        ok: false,
        summary: expect.stringContaining('Fanout budget reached'),
      }),
    ]);
    const maxTurns = {
      type: 'result',
      subtype: 'error_max_turns',
      is_error: true,
      result: null,
      errors: ['Reached 2'],
    };
    expect(parseClaudeLine(line(maxTurns), session)).toEqual([
      expect.objectContaining({ kind: 'finished', ok: false, summary: 'Reached 2' }),
    ]);
  });
});

function model() {
  return {
    name: 'claude-sonnet-5-5',
    credential: 'fanout-gw-abc',
    urls: {
      openai: 'http://127.0.0.1:7/openai/v1',
      anthropic: 'http://127.0.0.1:7/anthropic',
      toolUseHook: 'http://127.0.0.1:7/fanout/v1/tool-use',
    },
    hookCommand: [],
  };
}

describe("Claude Code's command line", () => {
  it('runs headless through the gateway, its writes and commands asked of Fanout, the repository settings ignored', () => {
    const request = { home: '/home/agent' } as AgentRequest;
    const { args, env } = claudeCodeSpec.invocation({ prompt: 'Do it.', request, model: model() });

    expect(args.slice(0, 2)).toEqual(['-p', 'Do it.']);
    for (const flag of ['--verbose', '--include-partial-messages', '--strict-mcp-config', '--disable-slash-commands'])
      expect(args).toContain(flag);
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--output-format')).toBe('stream-json');
    expect(value('--model')).toBe('claude-sonnet-5-5');
    expect(value('--tools')).toBe('Bash,Edit,Write,Read,Glob,Grep');
    expect(value('--setting-sources')).toBe('');
    expect(value('--permission-prompts')).toBe('none');
    expect(JSON.parse(value('--settings')!)).toEqual({
      permissions: { allow: ['Bash', 'Edit', 'Write', 'Read', 'Glob', 'Grep'] },
      hooks: {
        PreToolUse: [
          {
            matcher: 'Write|Edit|MultiEdit|NotebookEdit|Bash',
            hooks: [
              {
                type: 'http',
                url: 'http://127.0.0.1:7/fanout/v1/tool-use',
                headers: { Authorization: 'Bearer fanout-gw-abc' },
                timeout: 30,
              },
            ],
          },
        ],
      },
      env: { ANTHROPIC_API_KEY: 'fanout-gw-abc' },
    });
    expect(env).toEqual({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:7/anthropic',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      TMPDIR: '/home/agent',
    });
    expect(args).not.toContain('--resume');
    const resumed = claudeCodeSpec.invocation({ prompt: 'Put it back.', request, model: model(), resume: 'd049' });
    expect(resumed.args.slice(-2)).toEqual(['--resume', 'd049']);
  });
});

describe("Claude Code's tool calls, reviewed by Fanout (its PreToolUse hook)", () => {
  async function request() {
    const worktree = await tempDir('fanout-review-');
    await mkdir(join(worktree, 'src'));
    await symlink('/etc', join(worktree, 'src', 'etc-link'));
    const scope = ['src/greet.js', 'test/'];
    return {
      worktree: { path: worktree },
      subtask: { writeScope: scope },
      canWrite: createWriteMatcher(scope, protectedPaths()),
      protectedPaths: protectedPaths(),
      limits: DEFAULT_LIMITS,
    } as unknown as AgentRequest;
  }
  const review = async (tool: string, input: Record<string, unknown>, on: AgentRequest) =>
    claudeCodeSpec.reviewToolUse!({ tool, input }, on);

  it('lets a write in scope run, absolute or relative to the worktree, and every shell command', async () => {
    const on = await request();
    expect(await review('Write', { file_path: join(on.worktree.path, 'src/greet.js'), content: '' }, on)).toBeNull();
    expect(
      await review('Edit', { file_path: 'test/new/deep.test.js', old_string: 'a', new_string: 'b' }, on),
    ).toBeNull();
    expect(await review('Bash', { command: 'rm -rf /' }, on)).toBeNull();
    expect(await review('Read', { file_path: '/etc/shadow' }, on)).toBeNull();
  });

  it("refuses one outside the scope, protected, outside the worktree or through a link out, in Fanout's words", async () => {
    const on = await request();
    expect(await review('Write', { file_path: join(on.worktree.path, 'README.md'), content: '' }, on)).toBe(
      `write refused: "README.md" is outside this subtask's write scope (allowed: src/greet.js, test/). Change only files in the scope; if another file must change, say so in your finish summary.`,
    );
    expect(await review('MultiEdit', { file_path: '.github/workflows/ci.yml', edits: [] }, on)).toContain(
      '".github/workflows/ci.yml" is protected',
    );
    expect(await review('Write', { file_path: '/tmp/elsewhere.txt', content: '' }, on)).toContain(
      `"/tmp/elsewhere.txt" is outside the repository's checkout`,
    );
    expect(await review('Edit', { file_path: 'src/../../x.js' }, on)).toContain('outside the repository');
    expect(await review('Write', { file_path: 'src/etc-link/passwd', content: '' }, on)).toContain(
      'outside the repository',
    );
    expect(await review('Write', { file_path: '.git/hooks/pre-commit', content: '' }, on)).toContain('inside .git');
    expect(await review('NotebookEdit', { notebook_path: 'notes.ipynb', new_source: '' }, on)).toContain(
      '"notes.ipynb" is outside',
    );
    expect(await review('Write', { content: 'no path' }, on)).toContain('could not tell which file');
  });
});

describe("finding Claude Code (locateCli's requirement)", () => {
  async function script(path: string, output: string) {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, `#!/bin/sh\necho '${output}'\n`);
    await chmod(path, 0o755);
  }

  it('finds the pinned binary in its own install, and reads its version', async () => {
    const found = await locateCli(CLAUDE_CODE_REQUIREMENT, { PATH: '' });
    expect(found.version).toBe('2.1.337');
  });

  it("falls back to the platform package's binary when npm left the launcher stub (scripts disabled)", async () => {
    const root = join(await tempDir('fanout-claude-install-'), 'node_modules', '@anthropic-ai');
    await script(join(root, 'claude-code', 'bin', 'claude.exe'), 'claude native binary not installed');
    for (const libc of ['', '-musl'])
      await script(
        join(root, `claude-code-${process.platform}-${process.arch}${libc}`, 'claude'),
        '2.1.337 (Claude Code)',
      );
    for (const libc of ['', '-musl'])
      await writeFile(join(root, `claude-code-${process.platform}-${process.arch}${libc}`, 'package.json'), '{}');

    const found = await locateCli(CLAUDE_CODE_REQUIREMENT, {
      FANOUT_CLAUDE_CODE_PATH: join(root, 'claude-code', 'bin', 'claude.exe'),
    });

    expect(found.path).toMatch(/claude-code-[a-z0-9]+-[a-z0-9]+(-musl)?\/claude$/);
    expect(found.version).toBe('2.1.337');
  });

  it('refuses a version outside the tested range, naming the range', async () => {
    const binary = join(await tempDir('fanout-claude-new-'), 'claude');
    await script(binary, '2.3.1 (Claude Code)');
    const found = locateCli(CLAUDE_CODE_REQUIREMENT, { FANOUT_CLAUDE_CODE_PATH: binary });
    await expect(found).rejects.toBeInstanceOf(ConfigError);
    await expect(found).rejects.toThrow(
      "claude 2.3.1; Fanout's claude-code backend is tested with 2.1.0 up to, not including, 2.2.0",
    );
  });
});
