import type { ToolCall, TokenUsage } from '../../ports/llm.js';

/** The parts of a streamed chat-completion chunk this assembler reads. */
export interface StreamChunk {
  choices?: Array<{
    index?: number;
    delta?: {
      content?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string | null;
        function?: { name?: string | null; arguments?: string | null } | null;
      }> | null;
    } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

/**
 * Assembles streamed deltas into one message. Tool-call arguments arrive in pieces keyed by
 * `index`; every piece is kept in order, since dropping one leaves the model's call truncated.
 */
export class StreamAssembler {
  private content = '';
  private sawContent = false;
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  private finishReason: string | null = null;
  private usage: TokenUsage | null = null;

  /** Feeds one chunk. */
  push(chunk: StreamChunk): void {
    if (chunk.usage) {
      this.usage = {
        promptTokens: chunk.usage.prompt_tokens ?? 0,
        completionTokens: chunk.usage.completion_tokens ?? 0,
      };
    }
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta;
      if (typeof delta?.content === 'string') {
        this.content += delta.content;
        this.sawContent = true;
      }
      for (const piece of delta?.tool_calls ?? []) {
        const call = this.calls.get(piece.index) ?? { id: '', name: '', arguments: '' };
        if (piece.id) call.id = piece.id;
        if (piece.function?.name) call.name += piece.function.name;
        if (piece.function?.arguments) call.arguments += piece.function.arguments;
        this.calls.set(piece.index, call);
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
  }

  /** The assembled message. */
  result(): { content: string | null; toolCalls: ToolCall[]; finishReason: string | null; usage: TokenUsage | null } {
    const toolCalls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ id: call.id || `call_${index}`, name: call.name, arguments: call.arguments }));
    return {
      content: this.sawContent && this.content !== '' ? this.content : null,
      toolCalls,
      finishReason: this.finishReason,
      usage: this.usage,
    };
  }
}
