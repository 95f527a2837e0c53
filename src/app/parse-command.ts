import { z } from 'zod';
import { isAgentBackendName } from '../domain/agent-backend.js';
import type { IssueCommand } from '../domain/command.js';
import { PlanOutputSchema } from '../plan/schema.js';
import { FALLBACK_ID } from '../report/run-report.js';

/** The longest task accepted from a comment (GitHub allows 65 536 characters in one). */
export const MAX_TASK_LENGTH = 20_000;
// What a help reply quotes back of a command it did not understand.
const MAX_UNKNOWN_LENGTH = 100;

const COMMAND = /^ {0,3}\/orchestrate(?=\s|$)(.*)$/i;
const QUOTED = /^ {0,3}>/;
// What is left of a quoted line after its `>` markers (nested quotes too).
const QUOTE_MARKERS = /^(?: {0,3}> ?)+/;
// A line that starts a block of its own ends a quote's paragraph: no lazy continuation past it.
const INTERRUPTS = /^ {0,3}(?:$|[#<]|[-*+] |\d{1,9}[.)] |(?:[-*_] *){3,}$)/;
// HTML whose content is shown, not read (CommonMark's first kind of HTML block; inline too).
const VERBATIM_OPEN = /<(pre|textarea|script|style)(?=[\s>]|$)/gi;
// A fence opens with 3+ backticks or tildes after at most 3 spaces (CommonMark).
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

const TaskSchema = z.string().trim().min(1).max(MAX_TASK_LENGTH);
// The planner's own id rule, so every id a plan can hold can be retried (and the fallback agent's).
const PlannedId = PlanOutputSchema.shape.subtasks.element.shape.id;
const SubtaskIdSchema = z.string().refine((id) => id === FALLBACK_ID || PlannedId.safeParse(id).success);

const WORDS = ['status', 'cancel', 'approve', 'help'] as const;
// `--agent NAME` or `--agent=NAME` first on the command line; what follows is the task.
const AGENT_FLAG = /^\s*--agent(?:=(\S*)|\s+(\S+)|(?=\s*$))(.*)$/;
const FLAG = /^\s*--/;

/**
 * The `/orchestrate` command in a comment, or null when there is none. Only a line that starts with
 * the command counts (up to 3 spaces of indentation, as Markdown allows); quoted lines (and the
 * lines Markdown adds to a quote lazily), fenced code blocks, HTML comments and `<pre>`,
 * `<textarea>`, `<script>` and `<style>` are skipped, since they show or hide a command without
 * giving it. The first command line wins. See `parseCommandLine` for what follows the command.
 */
export function parseCommand(body: string): IssueCommand | null {
  const found = firstCommandLine(body, COMMAND);
  return found ? parseCommandLine(found.rest, found.following) : null;
}

const FIX_COMMAND = /^ {0,3}\/fanout\s+fix(?=\s|$)(.*)$/i;

/**
 * `/fanout fix [instructions]` on one of Fanout's pull requests, or null: the rest of the line and
 * the lines after it are the instructions (may be empty: look at the change again). The same
 * rules as `parseCommand` decide which lines count.
 */
export function parseFixCommand(body: string): Extract<IssueCommand, { kind: 'fix' }> | null {
  const found = firstCommandLine(body, FIX_COMMAND);
  if (!found) return null;
  const instructions = [found.rest, ...found.following].join('\n').trim();
  return {
    kind: 'fix',
    instructions: instructions.length > MAX_TASK_LENGTH ? instructions.slice(0, MAX_TASK_LENGTH) : instructions,
  };
}

/** The first line matching `command` outside quotes, fences and HTML comments: what follows it on the line, and the lines after. */
function firstCommandLine(body: string, command: RegExp): { rest: string; following: string[] } | null {
  const lines = body.split(/\r?\n/);
  let fence: { char: string; length: number } | null = null;
  let inHtmlComment = false;
  let verbatim: string | null = null;
  // A quote's paragraph is open: a line that starts no block of its own continues it (lazily).
  let quoteOpen = false;
  for (const [index, line] of lines.entries()) {
    if (fence) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (inHtmlComment) {
      inHtmlComment = !line.includes('-->');
      continue;
    }
    if (verbatim) {
      if (line.toLowerCase().includes(`</${verbatim}>`)) verbatim = null;
      continue;
    }
    if (quoteOpen && !QUOTED.test(line) && !INTERRUPTS.test(line) && !FENCE.test(line)) continue;
    quoteOpen = false;
    verbatim = opensVerbatim(line);
    if (verbatim) continue;
    const opening = FENCE.exec(line);
    if (opening && !(opening[1]?.startsWith('`') && opening[2]?.includes('`'))) {
      fence = { char: opening[1]?.charAt(0) ?? '`', length: opening[1]?.length ?? 3 };
      continue;
    }
    if (opensHtmlComment(line)) {
      inHtmlComment = true;
      continue;
    }
    if (QUOTED.test(line)) {
      quoteOpen = line.replace(QUOTE_MARKERS, '').trim() !== '';
      continue;
    }
    const match = command.exec(line);
    if (match) return { rest: match[1] ?? '', following: lines.slice(index + 1) };
  }
  return null;
}

/**
 * What follows `/orchestrate`. A first word that names a command reserves the line for it:
 * `status`, `cancel`, `approve` and `help` alone, `retry <subtask>` with exactly one planner id;
 * any other use of those words is answered with help. Otherwise the rest of the line and every
 * following line are the task. A lone word is far more likely a mistyped command than a task, so
 * it is answered with help too; an empty task is a request for help.
 */
function parseCommandLine(rest: string, following: string[]): IssueCommand {
  if (FLAG.test(rest)) return parseFlagged(rest, following);
  const words = rest.trim().split(/\s+/).filter(Boolean);
  const first = words[0]?.toLowerCase();
  if (first === 'retry') {
    const subtask = words[1];
    if (words.length !== 2 || subtask === undefined || !SubtaskIdSchema.safeParse(subtask).success)
      return unknown(rest);
    return { kind: 'retry', subtask };
  }
  const word = WORDS.find((candidate) => candidate === first);
  if (word) {
    if (words.length !== 1) return unknown(rest);
    return word === 'help' ? { kind: 'help' } : { kind: word };
  }
  const task = [rest, ...following].join('\n').trim();
  if (task === '') return { kind: 'help' };
  if (!/\s/.test(task)) return unknown(task);
  const parsed = TaskSchema.safeParse(task);
  if (!parsed.success) return unknown(`a task of ${task.length} characters (at most ${MAX_TASK_LENGTH})`);
  return { kind: 'orchestrate', task: parsed.data };
}

/**
 * `/orchestrate --agent NAME <task>`: the task (the same rules as without the flag) run with that
 * backend. The name must be one Fanout knows, exactly; the flag goes with a task only; any other
 * flag is answered with help, since a task that starts with `--` is far more likely a typo.
 */
function parseFlagged(rest: string, following: string[]): IssueCommand {
  const flag = AGENT_FLAG.exec(rest);
  if (!flag) return unknown(rest);
  const name = flag[1] ?? flag[2];
  const after = flag[3] ?? '';
  if (!name) return unknown(rest);
  if (!isAgentBackendName(name)) return { kind: 'help', unknown: `--agent ${name}`, unknownAgent: name };
  if (FLAG.test(after)) return unknown(rest);
  const command = parseCommandLine(after, following);
  if (command.kind !== 'orchestrate') return unknown(rest);
  return { ...command, agent: name };
}

function unknown(text: string): IssueCommand {
  const trimmed = text.trim();
  return {
    kind: 'help',
    unknown: trimmed.length > MAX_UNKNOWN_LENGTH ? `${trimmed.slice(0, MAX_UNKNOWN_LENGTH)}…` : trimmed,
  };
}

function closesFence(line: string, fence: { char: string; length: number }): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return match?.[1] !== undefined && match[1].charAt(0) === fence.char && match[1].length >= fence.length;
}

/** The element (`pre`, `textarea`, ...) opened on this line and not closed on it, or null. */
function opensVerbatim(line: string): string | null {
  let open: string | null = null;
  for (const match of line.matchAll(VERBATIM_OPEN)) {
    const name = match[1]!.toLowerCase();
    const after = line.slice(match.index + match[0].length).toLowerCase();
    open = after.includes(`</${name}>`) ? open : name;
  }
  return open;
}

/** An HTML comment that starts on this line and does not end on it (GitHub hides what it holds). */
function opensHtmlComment(line: string): boolean {
  const start = line.lastIndexOf('<!--');
  return start !== -1 && !line.slice(start + 4).includes('-->');
}
