import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OpenAiLlm } from '../../src/adapters/llm/openai-llm.js';
import { LlmError } from '../../src/domain/errors.js';
import { deadEndpoint, scriptedLlm } from '../support/scripted-llm.js';

const TOOLS = [
  {
    name: 'write_file',
    description: 'Write a file',
    parameters: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } },
  },
];

describe('OpenAiLlm against an OpenAI-compatible endpoint', () => {
  it('assembles a streamed tool call whose arguments arrive in many pieces, exactly', async () => {
    const content = 'line one\nline "two" with unicode: é✓\n'.repeat(20);
    const { llm } = await scriptedLlm([
      { toolCalls: [{ name: 'write_file', arguments: { path: 'src/a.ts', content } }], argumentChunkSize: 3 },
    ]);
    const result = await llm.chat({ messages: [{ role: 'user', content: 'write it' }], tools: TOOLS });
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]!.name).toBe('write_file');
    expect(JSON.parse(result.toolCalls[0]!.arguments)).toEqual({ path: 'src/a.ts', content });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.usage!.promptTokens).toBeGreaterThan(0);
  });

  it('keeps parallel tool calls apart, in order', async () => {
    const { llm } = await scriptedLlm([
      {
        toolCalls: [
          { name: 'read_file', arguments: { path: 'a' } },
          { name: 'read_file', arguments: { path: 'b' } },
        ],
        argumentChunkSize: 2,
      },
    ]);
    const result = await llm.chat({ messages: [{ role: 'user', content: 'read' }] });
    expect(result.toolCalls.map((call) => JSON.parse(call.arguments))).toEqual([{ path: 'a' }, { path: 'b' }]);
  });

  it('works without streaming too', async () => {
    const { llm, server } = await scriptedLlm(
      [{ content: 'hello', usage: { promptTokens: 11, completionTokens: 3 } }],
      { stream: false },
    );
    const result = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result).toEqual({
      content: 'hello',
      toolCalls: [],
      finishReason: 'stop',
      usage: { promptTokens: 11, completionTokens: 3 },
    });
    expect(server.requests[0]!.body.stream).toBeFalsy();
  });

  it('sends the conversation in the wire format, tool results included', async () => {
    const { llm, server } = await scriptedLlm([{ content: 'ok' }]);
    await llm.chat({
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          toolCalls: [{ id: 'call_1', name: 'read_file', arguments: '{"path":"a"}' }],
        },
        { role: 'tool', toolCallId: 'call_1', content: 'file text' },
      ],
      tools: TOOLS,
      toolChoice: 'required',
    });
    const body = server.requests[0]!.body;
    expect(body.messages[2]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: 'call_1', function: { name: 'read_file', arguments: '{"path":"a"}' } }],
    });
    expect(body.messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'file text' });
    expect(body.tool_choice).toBe('required');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer test-key');
  });

  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const { llm, server } = await scriptedLlm([
      { error: { status: 429, message: 'slow down', retryAfterMs: 20 } },
      { error: { status: 503, message: 'overloaded', retryAfterMs: 20 } },
      { content: 'finally' },
    ]);
    const result = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.content).toBe('finally');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after the retries with an error naming the endpoint and model', async () => {
    const { llm, server } = await scriptedLlm(
      Array(3).fill({ error: { status: 500, message: 'boom', retryAfterMs: 10 } }),
    );
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'llm-server-error', status: 500 });
    expect((error as Error).message).toContain('scripted-model');
    expect((error as Error).message).toContain(server.baseUrl);
    expect(server.requests).toHaveLength(3);
  });

  it('says clearly when the endpoint is unreachable', async () => {
    const llm = new OpenAiLlm({
      baseUrl: deadEndpoint(),
      apiKey: 'k',
      model: 'm1',
      timeoutMs: 2_000,
      maxAnswerBytes: 1_000_000,
      idleTimeoutMs: 2_000,
      maxRetries: 0,
      stream: true,
    });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'llm-unreachable' });
    expect((error as Error).message).toMatch(
      /Cannot reach the model endpoint http:\/\/127\.0\.0\.1:9\/v1 \(model "m1"\)/,
    );
  });

  it('names an unknown model', async () => {
    const { llm } = await scriptedLlm([{ error: { status: 404, message: 'The model `nope` does not exist' } }], {
      model: 'nope',
    });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'llm-model-not-found' });
    expect((error as Error).message).toContain('"nope"');
  });

  it('times out a request that never answers', async () => {
    const { llm } = await scriptedLlm([{ hang: true }], { timeoutMs: 300, maxRetries: 0 });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'llm-timeout' });
  });

  it('aborts a stream that goes silent mid-answer', async () => {
    const { llm } = await scriptedLlm([{ content: 'partial answer that stalls', stallAfterChunks: 2 }], {
      idleTimeoutMs: 300,
      maxRetries: 0,
    });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'llm-timeout' });
    expect((error as Error).message).toContain('sent nothing for 300 ms');
  });

  // Endpoints echo the key they refused; this one has no well-known token shape, so only knowing
  // the configured key can catch it.
  it.each([401, 400, 404])('keeps the API key out of the error when an HTTP %i body echoes it', async (status) => {
    const apiKey = 'local-endpoint-key-5f2b9c1e';
    const { llm } = await scriptedLlm([{ error: { status, message: `Incorrect API key provided: ${apiKey}.` } }], {
      apiKey,
      maxRetries: 0,
    });
    const error = (await llm
      .chat({ messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(LlmError);
    expect(error.message).toContain('Incorrect API key provided: [redacted]');
    expect(error.message).not.toContain(apiKey);
    // The SDK error stays attached as the cause; printed whole, it must not carry the key either.
    expect(inspect(error, { depth: 6 })).not.toContain(apiKey);
  });
});

describe('OpenAiLlm bounds every answer', () => {
  it('ends a stream that trickles forever at FANOUT_LLM_TIMEOUT_MS, closing the connection', async () => {
    // One character every 20 ms: never silent long enough for the idle limit.
    const { llm, server } = await scriptedLlm([{ endless: { pieceChars: 1, everyMs: 20 } }], {
      timeoutMs: 600,
      idleTimeoutMs: 5_000,
      maxRetries: 0,
    });
    const started = Date.now();
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'llm-timeout' });
    expect((error as Error).message).toContain('did not finish its answer within 600 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
    await server.endlessEnded();
    expect(server.requests[0]!.sent).toMatchObject({ closedByClient: true });
  });

  it.each([true, false])(
    'cuts off an answer past FANOUT_LLM_MAX_ANSWER_BYTES (streamed: %s), closing the connection',
    async (stream) => {
      const { llm, server } = await scriptedLlm([{ endless: { pieceChars: 64 * 1024, everyMs: 0 } }], {
        maxAnswerBytes: 256 * 1024,
        maxRetries: 0,
        stream,
      });
      const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LlmError);
      expect(error).toMatchObject({ code: 'llm-answer-too-large' });
      expect((error as Error).message).toContain('larger than 262144 bytes');
      await server.endlessEnded();
      const sent = server.requests[0]!.sent!;
      expect(sent.closedByClient).toBe(true);
      // What the kernel's socket buffers held besides; not the gigabytes an endless answer sends.
      expect(sent.bytes).toBeLessThan(16 * 1024 * 1024);
    },
  );

  it('asks again after an answer cut off by its bounds', async () => {
    const { llm, server } = await scriptedLlm(
      [{ endless: { pieceChars: 64 * 1024, everyMs: 0 } }, { content: 'a short answer' }],
      { maxAnswerBytes: 128 * 1024, maxRetries: 1 },
    );
    const result = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(result.content).toBe('a short answer');
    expect(server.requests).toHaveLength(2);
  });
});
