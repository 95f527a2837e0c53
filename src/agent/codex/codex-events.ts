import { isAbsolute, relative } from 'node:path';
import type { TokenUsage } from '../../ports/llm.js';
import type { CliEvent } from '../cli/cli-event.js';

/** One item of `codex exec --json` (the fields Fanout reads). */
interface CodexItem {
  id?: string;
  type?: string;
  text?: string;
  command?: string;
  aggregated_output?: string;
  exit_code?: number | null;
  status?: string;
  changes?: Array<{ path?: string; kind?: string }>;
}

/** One line of `codex exec --json`. */
interface CodexLine {
  type?: string;
  thread_id?: string;
  item?: CodexItem;
  usage?: { input_tokens?: number; output_tokens?: number };
  error?: { message?: string };
  message?: string;
}

// Items that show the model answered: what it said, thought, or the tools it called.
const ANSWER_ITEMS = new Set(['agent_message', 'reasoning', 'command_execution', 'file_change', 'todo_list']);

/**
 * Reads one Codex session's `--json` stream as Fanout's events. The stream has no model call of
 * its own: a model answer is inferred from the first item after the turn started or after a tool
 * finished (tool calls of one answer that run one after another count as several), and usage
 * arrives once, summed, with `turn.completed`, which ends the session (the gateway meters each
 * call); after `exec resume` that sum covers the whole thread. Shell commands are `run_command`; a patch is `write_file` (added), `edit_file`
 * (updated) or `apply_patch` (deleted) per path, relative to the worktree. Refused calls and
 * patches that fail to apply leave no item at all.
 */
export function codexStreamParser(worktree: string): (line: string) => CliEvent[] {
  let answered = false;
  let summary = '';
  const started = new Set<string>();

  const answer = (events: CliEvent[]) => {
    if (answered) return;
    answered = true;
    events.push({ kind: 'model-call', usage: null });
  };

  const item = (kind: 'started' | 'completed', entry: CodexItem): CliEvent[] => {
    const events: CliEvent[] = [];
    const id = entry.id ?? '';
    if (!entry.type || !ANSWER_ITEMS.has(entry.type)) return events;
    if (entry.type === 'agent_message') {
      answer(events);
      if (kind === 'completed' && entry.text) summary = entry.text;
      return events;
    }
    if (entry.type === 'command_execution' || entry.type === 'file_change') {
      // A tool item is announced when it starts; a quick one may only be seen completed.
      if (!started.has(id)) {
        started.add(id);
        answer(events);
        events.push(...toolCalls(entry, worktree));
      }
      if (kind === 'started') return events;
      started.delete(id);
      events.push(...toolResults(entry));
      // What comes next is the model's answer to these results.
      answered = false;
      return events;
    }
    answer(events);
    return events;
  };

  return (line) => {
    let event: CodexLine;
    try {
      event = JSON.parse(line) as CodexLine;
    } catch {
      return [];
    }
    switch (event.type) {
      case 'thread.started':
        return event.thread_id ? [{ kind: 'session-started', sessionId: event.thread_id }] : [];
      case 'turn.started':
        answered = false;
        return [];
      case 'item.started':
        return event.item ? item('started', event.item) : [];
      case 'item.completed':
        return event.item ? item('completed', event.item) : [];
      case 'turn.completed':
        // Codex sums the whole thread: after `exec resume`, the earlier sessions too.
        return [{ kind: 'finished', ok: true, summary, usage: usageOf(event.usage), usageOfThread: true }];
      case 'turn.failed':
        return [{ kind: 'finished', ok: false, summary: event.error?.message ?? 'the turn failed' }];
      default:
        // `error` lines are retries announced ("Reconnecting... 1/5"); a final error fails the turn.
        return [];
    }
  };
}

function toolCalls(entry: CodexItem, worktree: string): CliEvent[] {
  const id = entry.id ?? '';
  if (entry.type === 'command_execution')
    return [{ kind: 'tool-call', id, tool: 'run_command', arguments: { command: unwrapShell(entry.command ?? '') } }];
  return (entry.changes ?? []).map((change, index) => ({
    kind: 'tool-call',
    id: `${id}#${index}`,
    tool: change.kind === 'add' ? 'write_file' : change.kind === 'update' ? 'edit_file' : 'apply_patch',
    // The stream carries no content: two patches of one file differ only by their item.
    arguments: {
      path: worktreePath(change.path ?? '', worktree),
      ...(change.kind === 'delete' ? { delete: true } : {}),
      item: id,
    },
  }));
}

function toolResults(entry: CodexItem): CliEvent[] {
  const id = entry.id ?? '';
  if (entry.type === 'command_execution') {
    // As with run_command, a command that exited (tests failing included) is a tool call that worked.
    const exited = typeof entry.exit_code === 'number';
    return [
      {
        kind: 'tool-result',
        id,
        ok: exited,
        ...(exited ? {} : { error: `the command did not finish (${entry.status ?? 'unknown'})` }),
      },
    ];
  }
  const ok = entry.status !== 'failed';
  return (entry.changes ?? []).map((_, index) => ({
    kind: 'tool-result',
    id: `${id}#${index}`,
    ok,
    ...(ok ? {} : { error: 'the patch failed' }),
  }));
}

/** The command as the model wrote it: Codex reports `/bin/bash -c '<command>'`. */
export function unwrapShell(command: string): string {
  const wrapped = /^\S*\/(?:ba)?sh -l?c '([\s\S]*)'$/.exec(command);
  return wrapped ? wrapped[1]!.replaceAll(`'\\''`, `'`) : command;
}

/** A path Codex reports (absolute) as the repository-relative one Fanout logs. */
function worktreePath(path: string, worktree: string): string {
  if (!isAbsolute(path)) return path;
  const inside = relative(worktree, path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

function usageOf(usage: CodexLine['usage']): TokenUsage | null {
  if (!usage) return null;
  return { promptTokens: usage.input_tokens ?? 0, completionTokens: usage.output_tokens ?? 0 };
}
