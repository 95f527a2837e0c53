import type { TokenUsage } from '../../ports/llm.js';
import type { CliEvent } from '../cli/cli-event.js';
import type { CliSession } from '../cli/cli-spec.js';
import { fanoutToolCall } from './tool-calls.js';

type Json = Record<string, unknown>;

/**
 * The events one line of `claude -p --output-format stream-json --verbose
 * --include-partial-messages` says, in Fanout's terms:
 * - `system/init` → session-started (its id, for one more turn with `--resume`);
 * - the raw `message_delta` of each model call → model-call with that call's usage. The `usage`
 *   on `assistant` events is the call's start snapshot repeated per content block, so it counts
 *   nothing; `message_delta` comes once per call, with the whole usage. A call the API refused
 *   (Claude's `<synthetic>` error message) made no model call;
 * - `tool_use` blocks of `assistant` events → tool-call, named as Fanout's tools;
 * - `tool_result` blocks of `user` events → tool-result (a hook's refusal is an error result);
 * - `result` → finished: the final text as the summary, ok unless it is an error, with the
 *   session's summed usage and Claude's own cost estimate (the gateway's metering is the authority).
 * Calls of subagents (`parent_tool_use_id` set) are not the session's own and are skipped.
 */
export function parseClaudeLine(line: string, session: CliSession): CliEvent[] {
  const event = parseObject(line);
  if (!event) return [];
  if (event.parent_tool_use_id) return [];
  switch (event.type) {
    case 'system':
      return event.subtype === 'init' && typeof event.session_id === 'string'
        ? [{ kind: 'session-started', sessionId: event.session_id }]
        : [];
    case 'stream_event': {
      const raw = object(event.event);
      return raw?.type === 'message_delta' ? [{ kind: 'model-call', usage: tokenUsage(raw.usage) }] : [];
    }
    case 'assistant':
      return blocks(event.message, 'tool_use').map((block) => ({
        kind: 'tool-call',
        id: String(block.id),
        ...fanoutToolCall(String(block.name), object(block.input) ?? {}, session.worktree),
      }));
    case 'user':
      return blocks(event.message, 'tool_result').map((block) => {
        const failed = block.is_error === true;
        return {
          kind: 'tool-result',
          id: String(block.tool_use_id),
          ok: !failed,
          ...(failed ? { error: resultText(block.content) } : {}),
        };
      });
    case 'result':
      return [finished(event)];
    default:
      return [];
  }
}

function finished(result: Json): CliEvent {
  const ok = result.is_error !== true && result.subtype === 'success';
  const errors = Array.isArray(result.errors) ? result.errors.map(String).join('; ') : '';
  const summary =
    typeof result.result === 'string' && result.result !== ''
      ? result.result
      : errors || `Claude Code ended: ${String(result.subtype ?? 'unknown')}`;
  return {
    kind: 'finished',
    ok,
    summary,
    usage: tokenUsage(result.usage),
    costUsd: typeof result.total_cost_usd === 'number' ? result.total_cost_usd : null,
  };
}

/** Anthropic usage in Fanout's terms: cache reads and writes are prompt tokens too (as the gateway counts them). */
function tokenUsage(value: unknown): TokenUsage | null {
  const usage = object(value);
  if (!usage) return null;
  const count = (name: string) => (typeof usage[name] === 'number' ? (usage[name] as number) : 0);
  return {
    promptTokens: count('input_tokens') + count('cache_read_input_tokens') + count('cache_creation_input_tokens'),
    completionTokens: count('output_tokens'),
  };
}

/** A tool result's text: a string, or the text parts of a content array. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => object(part))
    .filter((part) => part?.type === 'text')
    .map((part) => String(part!.text))
    .join('\n');
}

function blocks(message: unknown, type: string): Json[] {
  const content = object(message)?.content;
  if (!Array.isArray(content)) return [];
  return content.map((block) => object(block)).filter((block): block is Json => block?.type === type);
}

function object(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

function parseObject(line: string): Json | null {
  try {
    return object(JSON.parse(line));
  } catch {
    return null;
  }
}
