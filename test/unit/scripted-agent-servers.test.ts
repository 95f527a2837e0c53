import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedAnthropicServer } from '../../src/scripted-model/anthropic-server.js';
import { startScriptedResponsesServer } from '../../src/scripted-model/responses-server.js';
import { answer } from '../../src/scripted-model/turns.js';

// The wire formats of the scripted servers the agent CLIs talk to (test/e2e/agent-clis.test.ts
// runs the real CLIs against them); here the parts a CLI run does not reach: whole bodies,
// errors, stalls, scripts as functions.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** The `data:` payloads of an SSE body, with their `event:` names. */
function sse(text: string): Array<{ event: string | undefined; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Record<string, unknown>,
    }));
}

async function anthropic(script: Parameters<typeof startScriptedAnthropicServer>[0]['script']) {
  const server = await startScriptedAnthropicServer({ script });
  closers.push(server.close);
  return server;
}

async function responses(script: Parameters<typeof startScriptedResponsesServer>[0]['script']) {
  const server = await startScriptedResponsesServer({ script });
  closers.push(server.close);
  return server;
}

describe('the scripted Anthropic messages server', () => {
  it('streams text and a tool_use whose input arrives in input_json_delta pieces, usage in message_delta', async () => {
    const server = await anthropic([
      {
        text: 'Writing.',
        toolCalls: [{ name: 'Write', input: { file_path: '/r/a.txt', content: 'hello' } }],
        inputChunkSize: 5,
        usage: { inputTokens: 11, outputTokens: 7, cachedInputTokens: 3 },
      },
    ]);

    const events = sse(
      await (await post(`${server.baseUrl}/v1/messages?beta=true`, { model: 'm', stream: true, messages: [] })).text(),
    );

    expect(events.map((event) => event.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      ...Array(9).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.every((event) => event.data.type === event.event)).toBe(true);
    const json = events
      .filter((event) => (event.data.delta as { type?: string } | undefined)?.type === 'input_json_delta')
      .map((event) => (event.data.delta as { partial_json: string }).partial_json);
    expect(json.every((piece) => piece.length <= 5)).toBe(true);
    expect(JSON.parse(json.join(''))).toEqual({ file_path: '/r/a.txt', content: 'hello' });
    expect(events.at(-2)!.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 11, output_tokens: 7, cache_read_input_tokens: 3 },
    });
    expect(server.requests[0]).toMatchObject({ path: '/v1/messages', query: 'beta=true', body: { model: 'm' } });
  });

  it('answers a whole message, counts tokens, and returns scripted errors in the API error shape', async () => {
    const server = await anthropic([
      answer('Done.', { usage: { inputTokens: 5, outputTokens: 2 } }),
      { error: { status: 429, message: 'slow down', retryAfterSeconds: 1 } },
    ]);

    const whole = await (await post(`${server.baseUrl}/v1/messages`, { model: 'm', messages: [] })).json();
    const limited = await post(`${server.baseUrl}/v1/messages`, { model: 'm', messages: [] });
    const exhausted = await post(`${server.baseUrl}/v1/messages`, { model: 'm', messages: [] });
    const counted = await (await post(`${server.baseUrl}/v1/messages/count_tokens`, { messages: [] })).json();

    expect(whole).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Done.' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2 },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    expect(exhausted.status).toBe(400);
    expect(counted).toEqual({ input_tokens: expect.any(Number) });
    // Token counts are traffic, not model calls: the script is not consumed by them.
    expect(server.requests).toHaveLength(3);
    expect(server.traffic.map((entry) => entry.url)).toContain('/v1/messages/count_tokens');
  });
});

describe('the scripted Responses server', () => {
  it('streams a function call and a freeform (custom) tool call, each event numbered, usage at completion', async () => {
    const server = await responses((call) =>
      call.body.model === 'gpt-5.5'
        ? {
            toolCalls: [
              { name: 'exec_command', input: { cmd: 'ls' } },
              { name: 'apply_patch', input: '*** Begin Patch\n' },
            ],
            usage: { inputTokens: 9, outputTokens: 4, cachedInputTokens: 2 },
          }
        : answer('other model'),
    );

    const events = sse(
      await (await post(`${server.baseUrl}/responses`, { model: 'gpt-5.5', stream: true, input: [] })).text(),
    );

    expect(events.map((event) => event.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.data.sequence_number)).toEqual(events.map((_, index) => index));
    const done = events.filter((event) => event.event === 'response.output_item.done').map((event) => event.data.item);
    expect(done).toEqual([
      expect.objectContaining({
        type: 'function_call',
        name: 'exec_command',
        arguments: '{"cmd":"ls"}',
        status: 'completed',
      }),
      expect.objectContaining({
        type: 'custom_tool_call',
        name: 'apply_patch',
        input: '*** Begin Patch\n',
        status: 'completed',
      }),
    ]);
    expect(events.at(-1)!.data.response).toMatchObject({
      status: 'completed',
      output: done,
      usage: { input_tokens: 9, input_tokens_details: { cached_tokens: 2 }, output_tokens: 4, total_tokens: 13 },
    });
  });

  it('stalls after the scripted number of events, keeping the stream open until the server closes', async () => {
    const server = await responses([answer('a long answer that never completes', { stallAfterEvents: 3 })]);
    const response = await post(`${server.baseUrl}/responses`, { model: 'm', stream: true, input: [] });
    const reader = response.body!.getReader();
    let text = '';
    while (sse(text).length < 3) text += new TextDecoder().decode((await reader.read()).value);

    const ended = reader.read().then(
      (chunk) => chunk,
      () => ({ done: true, value: undefined }),
    );
    await server.close();

    expect((await ended).value).toBeUndefined();
    expect(sse(text).map((event) => event.event)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
    ]);
  });
});
