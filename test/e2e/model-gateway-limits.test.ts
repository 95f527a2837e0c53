import { describe, expect, it } from 'vitest';
import { MemoryLedger } from '../../src/adapters/gateway/memory-ledger.js';
import { messagesAnswer, startCannedUpstream } from '../support/canned-model-upstream.js';
import { closeAfterTest, startTestGateway } from '../support/gateway-harness.js';

const AGENT = { runId: 'run-1', subtaskId: 'st-1', attempt: 1 };
const MODEL = 'claude-sonnet-4-5';

/** Both APIs' error answers have this much in common. */
interface ErrorJson {
  type?: string;
  error: { type: string; message: string; code?: string | null };
}

async function post(url: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as ErrorJson };
}

async function cannedGateway(usage = { input: 100, output: 50 }, options = {}) {
  const upstream = closeAfterTest(await startCannedUpstream(() => messagesAnswer(MODEL, 'ok', usage, false)));
  const started = await startTestGateway({ openai: `${upstream.origin}/v1`, anthropic: upstream.origin }, options);
  return { upstream, ...started };
}

describe('the model gateway refuses', () => {
  it('an unknown or revoked credential, in each API’s own error format, and nothing reaches the upstream', async () => {
    const { upstream, gateway } = await cannedGateway();
    const credential = gateway.issue(AGENT);
    const message = { model: MODEL, max_tokens: 10, messages: [] };

    const wrong = await post(
      `${credential.baseUrls.anthropic}/v1/messages`,
      { 'x-api-key': 'fanout-gw-guessed' },
      message,
    );
    const openaiWrong = await post(
      `${credential.baseUrls.openai}/chat/completions`,
      { authorization: 'Bearer nope' },
      { model: 'gpt-4.1', messages: [] },
    );
    expect(gateway.revoke(credential.token)).toBe(true);
    const revoked = await post(
      `${credential.baseUrls.anthropic}/v1/messages`,
      { 'x-api-key': credential.token },
      message,
    );

    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'Fanout gateway: unknown or revoked credential' },
    });
    expect(openaiWrong.status).toBe(401);
    expect(openaiWrong.json.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(revoked.status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });

  it('paths that are not model calls, even with a live credential', async () => {
    const { upstream, gateway, nextEvent } = await cannedGateway();
    const credential = gateway.issue(AGENT);

    const files = await post(
      `${credential.baseUrls.openai}/files`,
      { authorization: `Bearer ${credential.token}` },
      {},
    );

    expect(files.status).toBe(404);
    expect(files.json.error.message).toContain('POST /files is not forwarded');
    expect((await nextEvent()).outcome).toBe('refused');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a call once the agent’s token budget is spent, naming the figure', async () => {
    const { upstream, gateway, nextEvent } = await cannedGateway({ input: 1_500_000, output: 513_400 });
    const credential = gateway.issue({ ...AGENT, budget: { agent: { maxTokens: 2_000_000 } } });
    const headers = { 'x-api-key': credential.token };
    const url = `${credential.baseUrls.anthropic}/v1/messages`;

    const first = await post(url, headers, { model: MODEL, max_tokens: 64_000, messages: [] });
    await nextEvent();
    const second = await post(url, headers, { model: MODEL, max_tokens: 64_000, messages: [] });
    const refusal = await nextEvent();

    expect(first.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    expect(second.status).toBe(429);
    expect(second.headers.get('x-should-retry')).toBe('false');
    const figure = 'Fanout budget reached: 2,013,400 of 2,000,000 tokens for this agent';
    expect(second.json).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: figure } });
    expect(refusal).toMatchObject({
      outcome: 'refused',
      status: 429,
      refusal: { scope: 'agent', limit: 'tokens', spent: 2_013_400, max: 2_000_000, message: figure },
    });
  });

  it('a call once the run’s cost budget is spent, whichever of its agents spent it, and clamps output to the dollars left', async () => {
    // 100,000 input and 20,000 output tokens of Sonnet 4.5: $0.30 + $0.30.
    const ledger = new MemoryLedger();
    const { upstream, gateway, nextEvent } = await cannedGateway({ input: 100_000, output: 20_000 }, { ledger });
    const budget = { run: { maxUsd: 1 } };
    const first = gateway.issue({ ...AGENT, budget });
    const second = gateway.issue({ ...AGENT, subtaskId: 'st-2', budget });
    const url = `${first.baseUrls.anthropic}/v1/messages`;
    const body = { model: MODEL, max_tokens: 64_000, messages: [] };

    expect((await post(url, { 'x-api-key': first.token }, body)).status).toBe(200);
    await nextEvent();
    expect((await post(url, { 'x-api-key': second.token }, body)).status).toBe(200);
    await nextEvent();
    const refused = await post(url, { 'x-api-key': first.token }, body);

    // $1 left at $15 per million output tokens is 66,666 tokens; $0.40 left after the first is 26,666.
    expect(upstream.requests.map((request) => request.body!.max_tokens)).toEqual([64_000, 26_666]);
    expect(refused.status).toBe(429);
    expect(refused.json.error.message).toBe('Fanout budget reached: $1.20 of $1.00 for this run');
    expect((await ledger.spent(first.agent)).run.usd).toBeCloseTo(1.2, 10);
  });

  it('a request body over the cap, with 413', async () => {
    const { upstream, gateway } = await cannedGateway(undefined, { bounds: { requestLimitBytes: 1024 } });
    const credential = gateway.issue(AGENT);

    const answer = await post(
      `${credential.baseUrls.anthropic}/v1/messages`,
      { 'x-api-key': credential.token },
      { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(2048) }] },
    );

    expect(answer.status).toBe(413);
    expect(answer.json.error.type).toBe('request_too_large');
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('the model gateway and a client that goes away', () => {
  it('aborts the upstream request, and reports the call as aborted with the usage seen so far', async () => {
    const upstream = closeAfterTest(
      await startCannedUpstream(() => {
        const stream = messagesAnswer(MODEL, 'never finished', { input: 300, output: 0 }, true);
        return { events: 'events' in stream ? stream.events.slice(0, 3) : [], hang: true };
      }),
    );
    const { gateway, nextEvent } = await startTestGateway({
      openai: `${upstream.origin}/v1`,
      anthropic: upstream.origin,
    });
    const credential = gateway.issue(AGENT);
    const client = new AbortController();

    const response = await fetch(`${credential.baseUrls.anthropic}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': credential.token },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, stream: true, messages: [] }),
      signal: client.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    client.abort();

    await upstream.hungUpOn;
    const event = await nextEvent();
    expect(event).toMatchObject({ outcome: 'aborted', status: 499, usage: { inputTokens: 300, outputTokens: 1 } });
  });

  it('gives up on an upstream that does not answer within the time limit, with 504', async () => {
    const upstream = closeAfterTest(await startCannedUpstream(() => ({ silent: true })));
    const { gateway, nextEvent } = await startTestGateway(
      { openai: `${upstream.origin}/v1`, anthropic: upstream.origin },
      { bounds: { timeoutMs: 300 } },
    );
    const credential = gateway.issue(AGENT);

    const answer = await post(
      `${credential.baseUrls.anthropic}/v1/messages`,
      { 'x-api-key': credential.token },
      { model: MODEL, max_tokens: 10, messages: [] },
    );

    expect(answer.status).toBe(504);
    expect(answer.json.error).toEqual({
      type: 'timeout_error',
      message: 'Fanout gateway: the model endpoint did not finish within 300 ms',
    });
    await upstream.hungUpOn;
    expect(await nextEvent()).toMatchObject({ outcome: 'failed', status: 504 });
  });
});
