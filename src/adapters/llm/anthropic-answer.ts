import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { AnthropicAnswer } from './anthropic-messages.js';

type Block = AnthropicAnswer['content'][number];

/** A whole (non-streamed) message as an answer; null when the body is not a message. */
export function answerOfMessage(message: Message): AnthropicAnswer | null {
  // The types promise a message; a proxy or a broken server can send another body.
  const content = (message as Partial<Message>).content;
  if (!Array.isArray(content)) return null;
  return {
    content: content.map((block): Block => {
      if (block.type === 'text') return { type: 'text', text: block.text };
      if (block.type === 'tool_use')
        return { type: 'tool_use', id: block.id, name: block.name, input: JSON.stringify(block.input ?? {}) };
      return { type: 'other' };
    }),
    stopReason: message.stop_reason ?? null,
    usage: message.usage ?? null,
  };
}

/**
 * Assembles a streamed message from its events: text deltas per block, tool inputs from their
 * `input_json_delta` pieces (every piece in order, since dropping one truncates the call), the
 * stop reason and usage from `message_delta` over `message_start`'s.
 */
export class AnthropicStreamAssembler {
  private readonly blocks = new Map<number, Block & { pieces?: string[] }>();
  private stopReason: string | null = null;
  private usage: AnthropicAnswer['usage'] = null;
  private started = false;
  private stopped = false;

  /** Feeds one event. */
  push(event: RawMessageStreamEvent): void {
    switch (event.type) {
      case 'message_start':
        this.started = true;
        this.usage = { ...event.message.usage };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') this.blocks.set(event.index, { type: 'text', text: block.text });
        else if (block.type === 'tool_use')
          this.blocks.set(event.index, {
            type: 'tool_use',
            id: block.id,
            name: block.name,
            input: JSON.stringify(block.input ?? {}),
            pieces: [],
          });
        else this.blocks.set(event.index, { type: 'other' });
        break;
      }
      case 'content_block_delta': {
        const block = this.blocks.get(event.index);
        if (block?.type === 'text' && event.delta.type === 'text_delta') block.text += event.delta.text;
        if (block?.type === 'tool_use' && event.delta.type === 'input_json_delta')
          block.pieces?.push(event.delta.partial_json);
        break;
      }
      case 'message_delta': {
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        // Counts in message_delta are cumulative; a null one leaves message_start's.
        const counts = Object.entries(event.usage ?? {}).filter(([, value]) => typeof value === 'number');
        this.usage = { ...this.usage, ...Object.fromEntries(counts) };
        break;
      }
      case 'message_stop':
        this.stopped = true;
        break;
      default:
        break;
    }
  }

  /** Whether the stream ended as a message does (message_start ... message_stop). */
  complete(): boolean {
    return this.started && this.stopped;
  }

  /** The assembled answer. */
  result(): AnthropicAnswer {
    const content = [...this.blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, block]): Block => {
        if (block.type !== 'tool_use') return block;
        const { pieces, ...call } = block;
        // A tool without arguments streams no pieces: its start block's `{}` stands.
        return pieces && pieces.join('') !== '' ? { ...call, input: pieces.join('') } : call;
      });
    return { content, stopReason: this.stopReason, usage: this.usage };
  }
}
