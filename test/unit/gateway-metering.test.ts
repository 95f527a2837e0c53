import { describe, expect, it } from 'vitest';
import { answerMeter } from '../../src/adapters/gateway/answer-meter.js';
import type { MeteredApi } from '../../src/adapters/gateway/model-usage.js';

function sse(events: Array<{ event?: string; data: unknown }>, newline = '\n'): string {
  return events
    .map(
      ({ event, data }) =>
        `${event ? `event: ${event}${newline}` : ''}data: ${JSON.stringify(data)}${newline}${newline}`,
    )
    .join('');
}

const STREAMS: Record<MeteredApi, { text: string; model: string; usage: object }> = {
  'openai-chat': {
    text:
      sse([
        { data: { model: 'gpt-4.1', choices: [{ delta: { content: 'h\u00e9llo "usage"' } }], usage: null } },
        {
          data: {
            model: 'gpt-4.1-2025-04-14',
            choices: [],
            usage: { prompt_tokens: 900, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 512 } },
          },
        },
      ]) + 'data: [DONE]\n\n',
    model: 'gpt-4.1-2025-04-14',
    usage: { inputTokens: 900, outputTokens: 40, cachedInputTokens: 512, cacheWriteTokens: 0 },
  },
  'openai-responses': {
    text: sse([
      { event: 'response.created', data: { type: 'response.created', response: { model: 'gpt-5', usage: null } } },
      { event: 'response.output_text.delta', data: { type: 'response.output_text.delta', delta: '✓✓' } },
      {
        event: 'response.completed',
        data: {
          type: 'response.completed',
          response: {
            model: 'gpt-5',
            usage: { input_tokens: 3000, input_tokens_details: { cached_tokens: 2048 }, output_tokens: 120 },
          },
        },
      },
    ]),
    model: 'gpt-5',
    usage: { inputTokens: 3000, outputTokens: 120, cachedInputTokens: 2048, cacheWriteTokens: 0 },
  },
  'anthropic-messages': {
    text: sse([
      {
        event: 'message_start',
        data: {
          type: 'message_start',
          message: {
            model: 'claude-sonnet-4-5',
            usage: {
              input_tokens: 10,
              cache_creation_input_tokens: 200,
              cache_read_input_tokens: 3000,
              output_tokens: 1,
            },
          },
        },
      },
      { event: 'ping', data: { type: 'ping' } },
      { event: 'content_block_delta', data: { type: 'content_block_delta', delta: { text: 'ünïcode' } } },
      { event: 'message_delta', data: { type: 'message_delta', usage: { output_tokens: 80 } } },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ]),
    model: 'claude-sonnet-4-5',
    usage: { inputTokens: 3210, outputTokens: 80, cachedInputTokens: 3000, cacheWriteTokens: 200 },
  },
};

describe('metering an answer as it passes', () => {
  for (const [api, stream] of Object.entries(STREAMS) as Array<[MeteredApi, (typeof STREAMS)[MeteredApi]]>) {
    it(`reads ${api} stream usage wherever the bytes break, with \\n or \\r\\n lines`, () => {
      for (const text of [stream.text, stream.text.replace(/\n/g, '\r\n')]) {
        const bytes = Buffer.from(text);
        for (let cut = 1; cut < bytes.length; cut += 7) {
          const meter = answerMeter(api, 'text/event-stream; charset=utf-8');
          meter.write(bytes.subarray(0, cut));
          meter.write(bytes.subarray(cut, cut + 1));
          meter.write(bytes.subarray(cut + 1));
          expect(meter.end(), `cut at ${cut}`).toEqual({ model: stream.model, usage: stream.usage });
        }
      }
    });
  }

  it('reads each API’s usage from a whole JSON answer', () => {
    const read = (api: MeteredApi, body: unknown) => {
      const meter = answerMeter(api, 'application/json');
      const bytes = Buffer.from(JSON.stringify(body));
      meter.write(bytes.subarray(0, 5));
      meter.write(bytes.subarray(5));
      return meter.end();
    };
    expect(read('openai-chat', { model: 'm', usage: { prompt_tokens: 7, completion_tokens: 3 } })).toEqual({
      model: 'm',
      usage: { inputTokens: 7, outputTokens: 3, cachedInputTokens: 0, cacheWriteTokens: 0 },
    });
    expect(
      read('anthropic-messages', {
        model: 'claude-haiku-4-5',
        usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100 },
      }).usage,
    ).toEqual({ inputTokens: 105, outputTokens: 9, cachedInputTokens: 100, cacheWriteTokens: 0 });
  });

  it('reports no usage, rather than zero, when the answer has none', () => {
    const meter = answerMeter('openai-chat', 'text/event-stream');
    meter.write(Buffer.from(sse([{ data: { model: 'local', choices: [{ delta: { content: 'hi' } }] } }])));
    expect(meter.end().usage).toBeNull();
    const json = answerMeter('openai-responses', 'application/json');
    json.write(Buffer.from('not json'));
    expect(json.end()).toEqual({ usage: null, model: null });
  });
});
