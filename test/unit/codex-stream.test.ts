import { describe, expect, it } from 'vitest';
import { codexStreamParser, unwrapShell } from '../../src/agent/codex/codex-events.js';
import type { CliEvent } from '../../src/agent/cli/cli-event.js';

const ROOT = '/work/tree';

/** Lines as `codex exec --json` (0.171) printed them for one answer with text, a command and a patch, two more patches, a failing command and a closing message. */
const SESSION = [
  { type: 'thread.started', thread_id: '01a252e3-f20b' },
  { type: 'turn.started' },
  { type: 'item.completed', item: { id: 'item_0', type: 'error', message: 'Hooks run without trust checks.' } },
  { type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'Let me look and write.' } },
  {
    type: 'item.started',
    item: {
      id: 'item_2',
      type: 'command_execution',
      command: "/bin/bash -c 'cat src/a.txt'",
      exit_code: null,
      status: 'in_progress',
    },
  },
  {
    type: 'item.completed',
    item: {
      id: 'item_2',
      type: 'command_execution',
      command: "/bin/bash -c 'cat src/a.txt'",
      aggregated_output: 'a\n',
      exit_code: 0,
      status: 'completed',
    },
  },
  {
    type: 'item.started',
    item: {
      id: 'item_3',
      type: 'file_change',
      changes: [{ path: `${ROOT}/src/a.txt`, kind: 'update' }],
      status: 'in_progress',
    },
  },
  {
    type: 'item.completed',
    item: {
      id: 'item_3',
      type: 'file_change',
      changes: [{ path: `${ROOT}/src/a.txt`, kind: 'update' }],
      status: 'completed',
    },
  },
  {
    type: 'item.completed',
    item: {
      id: 'item_4',
      type: 'file_change',
      changes: [
        { path: `${ROOT}/README.md`, kind: 'delete' },
        { path: `${ROOT}/src/new.txt`, kind: 'add' },
      ],
      status: 'completed',
    },
  },
  { type: 'error', message: 'Reconnecting... 1/5 (unexpected status 502 Bad Gateway)' },
  {
    type: 'item.started',
    item: {
      id: 'item_5',
      type: 'command_execution',
      command: "/bin/bash -c 'echo '\\''hi'\\''; exit 3'",
      exit_code: null,
      status: 'in_progress',
    },
  },
  {
    type: 'item.completed',
    item: {
      id: 'item_5',
      type: 'command_execution',
      command: "/bin/bash -c 'echo '\\''hi'\\''; exit 3'",
      aggregated_output: 'hi\n',
      exit_code: 3,
      status: 'failed',
    },
  },
  { type: 'item.completed', item: { id: 'item_6', type: 'agent_message', text: 'Done.' } },
  {
    type: 'turn.completed',
    usage: { input_tokens: 1250, cached_input_tokens: 40, output_tokens: 120, reasoning_output_tokens: 0 },
  },
].map((line) => JSON.stringify(line));

function parseAll(lines: string[]): CliEvent[] {
  const parse = codexStreamParser(ROOT);
  return lines.flatMap((line) => parse(line));
}

describe("Codex's --json stream as Fanout's events", () => {
  it('infers one model call per answer, maps commands and patches onto run_command, edit_file, write_file, and ends with the summed usage', () => {
    expect(parseAll(SESSION)).toEqual([
      { kind: 'session-started', sessionId: '01a252e3-f20b' },
      { kind: 'model-call', usage: null },
      { kind: 'tool-call', id: 'item_2', tool: 'run_command', arguments: { command: 'cat src/a.txt' } },
      { kind: 'tool-result', id: 'item_2', ok: true },
      // The patch came in the same answer as the command: one more model call is counted (the stream cannot tell).
      { kind: 'model-call', usage: null },
      { kind: 'tool-call', id: 'item_3#0', tool: 'edit_file', arguments: { path: 'src/a.txt', item: 'item_3' } },
      { kind: 'tool-result', id: 'item_3#0', ok: true },
      { kind: 'model-call', usage: null },
      {
        kind: 'tool-call',
        id: 'item_4#0',
        tool: 'apply_patch',
        arguments: { path: 'README.md', delete: true, item: 'item_4' },
      },
      { kind: 'tool-call', id: 'item_4#1', tool: 'write_file', arguments: { path: 'src/new.txt', item: 'item_4' } },
      { kind: 'tool-result', id: 'item_4#0', ok: true },
      { kind: 'tool-result', id: 'item_4#1', ok: true },
      { kind: 'model-call', usage: null },
      { kind: 'tool-call', id: 'item_5', tool: 'run_command', arguments: { command: "echo 'hi'; exit 3" } },
      // As with run_command, failing tests are information, not a broken tool call.
      { kind: 'tool-result', id: 'item_5', ok: true },
      { kind: 'model-call', usage: null },
      {
        kind: 'finished',
        ok: true,
        summary: 'Done.',
        usage: { promptTokens: 1250, completionTokens: 120 },
        usageOfThread: true,
      },
    ]);
  });

  it('ends a failed turn not ok, with its message, and reads every session on its own', () => {
    const failed = [
      { type: 'thread.started', thread_id: 't' },
      { type: 'turn.started' },
      { type: 'item.started', item: { id: 'item_0', type: 'command_execution', command: 'ls', exit_code: null } },
      { type: 'turn.failed', error: { message: 'Quota exceeded. Check your plan and billing details.' } },
    ].map((line) => JSON.stringify(line));
    const events = parseAll(failed);
    expect(events.at(-1)).toEqual({
      kind: 'finished',
      ok: false,
      summary: 'Quota exceeded. Check your plan and billing details.',
    });
    // A second session's parser starts afresh: its first item is an answer again.
    expect(parseAll([failed[2]!]).map((event) => event.kind)).toEqual(['model-call', 'tool-call']);
  });

  it('ignores lines that are not its JSON', () => {
    expect(parseAll(['Reading prompt from stdin...', '{"type":"item.updated","item":{"type":"todo_list"}}'])).toEqual(
      [],
    );
  });

  it('unwraps the shell Codex ran a command with', () => {
    expect(unwrapShell("/bin/bash -c 'npm test'")).toBe('npm test');
    expect(unwrapShell("/usr/bin/bash -lc 'echo '\\''a b'\\'''")).toBe("echo 'a b'");
    expect(unwrapShell('ls -la')).toBe('ls -la');
  });
});
