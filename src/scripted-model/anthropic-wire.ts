import type { SseEvent } from './turn-server.js';
import { splitText, withIds, type ScriptedTurn, type ScriptedUsage } from './turns.js';

/** The subset of an Anthropic messages request the scripts look at. */
export interface AnthropicMessagesBody {
  model: string;
  stream?: boolean;
  max_tokens?: number;
  system?: string | AnthropicContentBlock[];
  messages: Array<{ role: string; content: string | AnthropicContentBlock[] }>;
  tools?: Array<{ name: string; description?: string; input_schema?: unknown }>;
}

/** A content block of a message (text, tool_use, tool_result, and kinds the scripts ignore). */
export interface AnthropicContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | AnthropicContentBlock[];
  is_error?: boolean;
}

/** The tool results the last user message carries back to the model, their text joined. */
export function anthropicToolResults(
  body: AnthropicMessagesBody,
): Array<{ toolUseId: string; text: string; isError: boolean }> {
  const last = body.messages.filter((message) => message.role === 'user').at(-1);
  if (!last || typeof last.content === 'string') return [];
  return last.content
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({
      toolUseId: block.tool_use_id ?? '',
      text: blockText(block.content),
      isError: block.is_error === true,
    }));
}

function blockText(content: AnthropicContentBlock['content']): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((block) => block.text ?? '').join('');
}

function usageFields(usage: ScriptedUsage) {
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens ?? 0,
    cache_read_input_tokens: usage.cachedInputTokens ?? 0,
    output_tokens: usage.outputTokens,
  };
}

function contentBlocks(turn: ScriptedTurn) {
  const blocks: Array<Record<string, unknown>> = [];
  if (turn.text) blocks.push({ type: 'text', text: turn.text });
  for (const call of withIds(turn, 'toolu_')) {
    const input = typeof call.input === 'string' ? { input: call.input } : call.input;
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input });
  }
  return blocks;
}

const stopReason = (turn: ScriptedTurn) => ((turn.toolCalls?.length ?? 0) > 0 ? 'tool_use' : 'end_turn');
const messageId = () => `msg_scripted_${Math.random().toString(36).slice(2, 14)}`;

/** A whole (non-streamed) message. */
export function anthropicMessage(model: string, turn: ScriptedTurn, usage: ScriptedUsage) {
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model,
    content: contentBlocks(turn),
    stop_reason: stopReason(turn),
    stop_sequence: null,
    usage: usageFields(usage),
  };
}

/**
 * The streamed events of a message, as the Messages API sends them: message_start, per block
 * content_block_start / deltas (text_delta, input_json_delta) / content_block_stop, message_delta
 * with the stop reason and the usage, message_stop.
 */
export function anthropicStreamEvents(model: string, turn: ScriptedTurn, usage: ScriptedUsage): SseEvent[] {
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({ event: type, data: { type, ...data } });
  const startUsage = { ...usageFields(usage), output_tokens: 1 };
  const events: SseEvent[] = [
    event('message_start', {
      message: {
        id: messageId(),
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage,
      },
    }),
    event('ping', {}),
  ];
  contentBlocks(turn).forEach((block, index) => {
    if (block.type === 'text') {
      events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const piece of splitText(String(block.text), 24)) {
        events.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
      }
    } else {
      const json = JSON.stringify(block.input);
      events.push(
        event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        }),
      );
      for (const piece of splitText(json, turn.inputChunkSize ?? json.length)) {
        events.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }));
      }
    }
    events.push(event('content_block_stop', { index }));
  });
  events.push(
    event('message_delta', {
      delta: { stop_reason: stopReason(turn), stop_sequence: null },
      usage: usageFields(usage),
    }),
    event('message_stop', {}),
  );
  return events;
}

/** The Messages API's error body. */
export function anthropicError(status: number, message: string) {
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status === 401
          ? 'authentication_error'
          : status >= 500
            ? 'api_error'
            : 'invalid_request_error';
  return { type: 'error', error: { type, message } };
}
