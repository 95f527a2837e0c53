import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../src/adapters/gateway/memory-ledger.js';
import { messagesAnswer, responsesAnswer, startCannedUpstream } from '../support/canned-model-upstream.js';
import { closeAfterTest, REAL_KEYS, startTestGateway } from '../support/gateway-harness.js';
import { startScriptedServer } from '../support/scripted-openai-server.js';
import { tempDir } from '../support/temp-dir.js';

const AGENT = { runId: 'run-1', subtaskId: 'st-1', attempt: 1 };

async function post(url: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('the model gateway forwards each API with the real key and meters it', () => {
  it('chat completions, streamed and not, through the openai client: usage and cost per agent and run', async () => {
    const scripted = closeAfterTest(
      await startScriptedServer({
        script: [
          { content: 'hello', usage: { promptTokens: 1200, completionTokens: 300 } },
          { content: 'streamed answer', usage: { promptTokens: 2000, completionTokens: 500 } },
        ],
      }),
    );
    const ledger = new MemoryLedger();
    const { gateway, nextEvent } = await startTestGateway(
      { openai: scripted.baseUrl, anthropic: 'http://127.0.0.1:9' },
      { ledger },
    );
    const credential = gateway.issue(AGENT);
    const client = new OpenAI({ baseURL: credential.baseUrls.openai, apiKey: credential.token, maxRetries: 0 });

    const whole = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const first = await nextEvent();
    const stream = await client.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'stream it' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    const second = await nextEvent();

    expect(whole.choices[0]!.message.content).toBe('hello');
    expect(text).toBe('streamed answer');
    // The real key reached the endpoint, the agent's credential did not.
    for (const request of scripted.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${REAL_KEYS.openai}`);
      expect(JSON.stringify(request.headers)).not.toContain(credential.token);
    }
    // A stream that did not ask for its usage was made to.
    expect(scripted.requests[1]!.body.stream_options).toEqual({ include_usage: true });
    expect(first).toMatchObject({
      agent: AGENT,
      api: 'openai-chat',
      path: '/chat/completions',
      model: 'gpt-4.1-mini',
      usage: { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 0, cacheWriteTokens: 0 },
      price: 'built-in',
      status: 200,
      outcome: 'answered',
    });
    expect(first.costUsd).toBeCloseTo((1200 * 0.4 + 300 * 1.6) / 1e6, 12);
    expect(second.usage).toMatchObject({ inputTokens: 2000, outputTokens: 500 });
    const spent = await ledger.spent(AGENT);
    expect(spent.agent.tokens).toBe(4000);
    expect(spent.run.usd).toBeCloseTo((3200 * 0.4 + 800 * 1.6) / 1e6, 12);
  });

  const cases = [
    { api: 'openai-responses', stream: false },
    { api: 'openai-responses', stream: true },
    { api: 'anthropic-messages', stream: false },
    { api: 'anthropic-messages', stream: true },
  ] as const;
  it.each(cases)(
    '$api (stream: $stream): bytes passed as they came, usage with cache tokens, priced',
    async ({ api, stream }) => {
      const usage = { input: 5000, output: 700, cached: 4000, cacheWrite: api === 'anthropic-messages' ? 600 : 0 };
      const model = api === 'anthropic-messages' ? 'claude-sonnet-4-5-20250929' : 'gpt-5-mini';
      const upstream = closeAfterTest(
        await startCannedUpstream(() =>
          api === 'anthropic-messages'
            ? messagesAnswer(model, 'done', usage, stream)
            : responsesAnswer(model, 'done', usage, stream),
        ),
      );
      const direct = await fetch(`${upstream.origin}/`, { method: 'POST', body: '{}' }).then((r) => r.text());
      const { gateway, nextEvent } = await startTestGateway({
        openai: `${upstream.origin}/v1`,
        anthropic: upstream.origin,
      });
      const credential = gateway.issue(AGENT);
      const url =
        api === 'anthropic-messages'
          ? `${credential.baseUrls.anthropic}/v1/messages?beta=true`
          : `${credential.baseUrls.openai}/responses`;
      // Claude Code sends its key as x-api-key; Codex as a bearer token.
      const auth: Record<string, string> =
        api === 'anthropic-messages' ? { 'x-api-key': credential.token, authorization: '' } : {};

      const answer = await post(url, credential.token, { model, stream, max_tokens: 1000, input: 'go' }, auth);
      const event = await nextEvent();

      expect(answer.status).toBe(200);
      expect(answer.text).toBe(direct);
      const received = upstream.requests[1]!;
      if (api === 'anthropic-messages') {
        expect(received.url).toBe('/v1/messages?beta=true');
        expect(received.headers['x-api-key']).toBe(REAL_KEYS.anthropic);
        expect(received.headers.authorization).toBeUndefined();
      } else {
        expect(received.url).toBe('/v1/responses');
        expect(received.headers.authorization).toBe(`Bearer ${REAL_KEYS.openai}`);
        expect(received.headers['x-api-key']).toBeUndefined();
      }
      const inputTokens = api === 'anthropic-messages' ? 5000 + 4000 + 600 : 5000;
      expect(event).toMatchObject({
        api,
        model,
        price: 'built-in',
        outcome: 'answered',
        usage: { inputTokens, outputTokens: 700, cachedInputTokens: 4000, cacheWriteTokens: usage.cacheWrite },
      });
      const expected =
        api === 'anthropic-messages'
          ? (5000 * 3 + 4000 * 0.3 + 600 * 3.75 + 700 * 15) / 1e6
          : (1000 * 0.25 + 4000 * 0.025 + 700 * 2) / 1e6;
      expect(event.costUsd).toBeCloseTo(expected, 12);
    },
  );

  it('an upstream error that echoes the real key reaches the agent redacted, and the agent’s own auth headers never go upstream', async () => {
    const upstream = closeAfterTest(
      await startCannedUpstream((request) => ({
        status: 401,
        headers: { 'x-echo': String(request.headers['x-api-key']) },
        json: {
          type: 'error',
          error: { type: 'authentication_error', message: `bad key ${request.headers['x-api-key']}` },
        },
      })),
    );
    const { gateway, nextEvent } = await startTestGateway({
      openai: `${upstream.origin}/v1`,
      anthropic: upstream.origin,
    });
    const credential = gateway.issue(AGENT);

    const answer = await post(
      `${credential.baseUrls.anthropic}/v1/messages`,
      credential.token,
      { model: 'claude-haiku-4-5', max_tokens: 10, messages: [] },
      { 'x-api-key': credential.token, cookie: 'session=abc123456789', 'api-key': 'another-secret-value' },
    );
    const event = await nextEvent();

    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain(REAL_KEYS.anthropic);
    expect(answer.text).toContain('[redacted]');
    expect(JSON.stringify([...answer.headers])).not.toContain(REAL_KEYS.anthropic);
    expect(JSON.stringify(event)).not.toContain(REAL_KEYS.anthropic);
    const sent = upstream.requests[0]!.headers;
    expect(sent['x-api-key']).toBe(REAL_KEYS.anthropic);
    expect(sent.authorization).toBeUndefined();
    expect(sent.cookie).toBeUndefined();
    expect(sent['api-key']).toBeUndefined();
  });

  it('counts an unpriced model’s tokens with its cost unknown, and prices it once the repository’s prices: name it', async () => {
    const scripted = closeAfterTest(
      await startScriptedServer({
        script: () => ({ content: 'ok', usage: { promptTokens: 1000, completionTokens: 100 } }),
      }),
    );
    const ledger = new MemoryLedger();
    const { gateway, nextEvent } = await startTestGateway(
      { openai: scripted.baseUrl, anthropic: 'http://127.0.0.1:9' },
      { ledger },
    );
    const body = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };
    const unpriced = gateway.issue(AGENT);
    const priced = gateway.issue({ ...AGENT, attempt: 2, prices: { 'llama3.1:8b': { input: 0.5, output: 1 } } });

    expect((await post(`${unpriced.baseUrls.openai}/chat/completions`, unpriced.token, body)).status).toBe(200);
    const first = await nextEvent();
    expect((await post(`${priced.baseUrls.openai}/chat/completions`, priced.token, body)).status).toBe(200);
    const second = await nextEvent();

    expect(first).toMatchObject({
      model: 'llama3.1:8b',
      costUsd: null,
      price: 'unknown',
      usage: { inputTokens: 1000 },
    });
    expect(second).toMatchObject({ price: 'config' });
    expect(second.costUsd).toBeCloseTo((1000 * 0.5 + 100 * 1) / 1e6, 12);
    expect((await ledger.spent(AGENT)).run).toEqual({ tokens: 2200, usd: second.costUsd, unpricedCalls: 1 });
  });

  it('answers over its unix socket too', async () => {
    const scripted = closeAfterTest(await startScriptedServer({ script: [{ content: 'over the socket' }] }));
    const socketPath = join(await tempDir('fanout-gw-'), 'gateway.sock');
    const { gateway, nextEvent } = await startTestGateway(
      { openai: scripted.baseUrl, anthropic: 'http://127.0.0.1:9' },
      { socketPath },
    );
    const credential = gateway.issue(AGENT);
    expect(credential.socket).toEqual({
      path: socketPath,
      baseUrls: { openai: 'http://localhost/openai/v1', anthropic: 'http://localhost/anthropic' },
    });

    const body = JSON.stringify({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }] });
    const text = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        {
          socketPath,
          path: '/openai/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${credential.token}` },
        },
        (response) => {
          let data = '';
          response.on('data', (chunk: Buffer) => (data += chunk.toString()));
          response.on('end', () => resolve(data));
        },
      );
      request.on('error', reject);
      request.end(body);
    });

    expect(JSON.parse(text).choices[0].message.content).toBe('over the socket');
    expect((await nextEvent()).outcome).toBe('answered');
    expect(scripted.requests[0]!.headers.authorization).toBe(`Bearer ${REAL_KEYS.openai}`);
  });
});
