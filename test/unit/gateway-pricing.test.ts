import { describe, expect, it } from 'vitest';
import { budgetRefusal, outputTokensLeft } from '../../src/adapters/gateway/budget.js';
import { costUsd, lookUpPrice } from '../../src/adapters/gateway/pricing.js';
import { readRequest, rewriteRequest } from '../../src/adapters/gateway/request-body.js';
import { routeOf } from '../../src/adapters/gateway/routes.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';

const NONE = { tokens: 0, usd: 0, unpricedCalls: 0 };

describe('pricing', () => {
  it('prices a model, its dated snapshots, and nothing merely similar', () => {
    expect(lookUpPrice(['claude-sonnet-4-5-20250929'])).toMatchObject({ source: 'built-in', price: { input: 3 } });
    expect(lookUpPrice(['gpt-4.1-mini-2025-04-14'])).toMatchObject({ source: 'built-in', price: { input: 0.4 } });
    expect(lookUpPrice(['claude-opus-4-9'])).toEqual({ source: 'unknown', price: null });
    expect(lookUpPrice(['llama3.1:8b', null])).toEqual({ source: 'unknown', price: null });
    // The answer's model first, the request's when the answer's is unknown.
    expect(lookUpPrice(['my-proxy-alias', 'gpt-4o'])).toMatchObject({ model: 'gpt-4o' });
  });

  it('takes `prices:` from .github/fanout.yml over the built-in table, and prices models it lacks', () => {
    const config = parseRepoConfig(
      'prices:\n  gpt-4o: { input: 1, output: 2 }\n  llama3.1:8b: { input: 0, output: 0 }\n',
    );
    expect(lookUpPrice(['gpt-4o'], config.prices)).toEqual({
      source: 'config',
      model: 'gpt-4o',
      price: { input: 1, output: 2 },
    });
    expect(lookUpPrice(['llama3.1:8b'], config.prices).source).toBe('config');
    expect(parseRepoConfig(null).prices).toEqual({});
    expect(() => parseRepoConfig('prices:\n  gpt-4o: { input: -1, output: 2 }\n')).toThrow(/prices/);
  });

  it('charges cached reads and cache writes at their own prices', () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cachedInputTokens: 500_000,
      cacheWriteTokens: 100_000,
    };
    expect(costUsd(usage, { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 })).toBeCloseTo(
      0.4 * 3 + 0.5 * 0.3 + 0.1 * 3.75 + 0.1 * 15,
      12,
    );
    // No separate prices: cached and written tokens cost what input costs.
    expect(costUsd(usage, { input: 1, output: 1 })).toBeCloseTo(1.1, 12);
  });
});

describe('budgets', () => {
  it('refuses on the first budget reached, agent before run, naming it', () => {
    const spent = { agent: { ...NONE, tokens: 500 }, run: { ...NONE, tokens: 9000, usd: 5.5 } };
    expect(budgetRefusal(spent, { agent: { maxTokens: 1000 }, run: { maxUsd: 5 } })?.message).toBe(
      'Fanout budget reached: $5.50 of $5.00 for this run',
    );
    expect(budgetRefusal(spent, { agent: { maxTokens: 500 }, run: { maxUsd: 5 } })?.message).toBe(
      'Fanout budget reached: 500 of 500 tokens for this agent',
    );
    expect(budgetRefusal(spent, { agent: { maxTokens: 501 } })).toBeNull();
  });

  it('leaves the next call the output tokens the tightest budget allows', () => {
    const spent = { agent: { ...NONE, tokens: 1000 }, run: { ...NONE, usd: 0.9 } };
    expect(outputTokensLeft(spent, { agent: { maxTokens: 5000 } }, null)).toBe(4000);
    // $0.10 left at $10 per million output tokens.
    expect(outputTokensLeft(spent, { agent: { maxTokens: 50_000 }, run: { maxUsd: 1 } }, 10)).toBe(10_000);
    // A cost budget cannot limit a model without a price.
    expect(outputTokensLeft(spent, { run: { maxUsd: 1 } }, null)).toBeNull();
  });
});

describe('rewriting a request before it goes upstream', () => {
  const facts = (body: object) => readRequest(Buffer.from(JSON.stringify(body)));
  const rewritten = (...args: Parameters<typeof rewriteRequest>) => {
    const body = rewriteRequest(...args);
    return body && (JSON.parse(body.toString()) as Record<string, unknown>);
  };

  it('asks a streamed chat completion for its usage, keeping other stream options', () => {
    expect(rewritten('openai-chat', facts({ stream: true, stream_options: { x: 1 } }), null)).toEqual({
      stream: true,
      stream_options: { x: 1, include_usage: true },
    });
    expect(rewriteRequest('openai-chat', facts({ stream: false }), null)).toBeNull();
    expect(
      rewriteRequest('openai-chat', facts({ stream: true, stream_options: { include_usage: true } }), null),
    ).toBeNull();
  });

  it('caps output at what is left, in each API’s field, and only lower', () => {
    expect(rewritten('openai-chat', facts({ max_tokens: 900 }), 500)).toEqual({ max_tokens: 500 });
    expect(rewritten('openai-chat', facts({}), 500)).toEqual({ max_completion_tokens: 500 });
    expect(rewritten('openai-responses', facts({ max_output_tokens: 900 }), 500)).toEqual({ max_output_tokens: 500 });
    expect(rewriteRequest('anthropic-messages', facts({ max_tokens: 400 }), 500)).toBeNull();
    // Anthropic wants the thinking budget under max_tokens.
    expect(
      rewritten(
        'anthropic-messages',
        facts({ max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 } }),
        3000,
      ),
    ).toEqual({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 2999 } });
    expect(
      rewritten(
        'anthropic-messages',
        facts({ max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 4000 } }),
        900,
      ),
    ).toEqual({ max_tokens: 900, thinking: { type: 'disabled' } });
  });
});

describe('routes', () => {
  it('forwards the model APIs and what agent CLIs call, and nothing else under the prefixes', () => {
    expect(routeOf('POST', '/anthropic/v1/messages?beta=true')).toEqual({
      kind: 'forward',
      provider: 'anthropic',
      api: 'anthropic-messages',
      path: '/v1/messages?beta=true',
      clampOutput: true,
    });
    expect(routeOf('GET', '/openai/v1/models/gpt-4.1')).toMatchObject({ kind: 'forward', api: 'other' });
    expect(routeOf('POST', '/openai/v1/responses/compact')).toMatchObject({
      api: 'openai-responses',
      clampOutput: false,
    });
    expect(routeOf('HEAD', '/anthropic/api/hello')).toMatchObject({ kind: 'local', answer: 'hello' });
    expect(routeOf('POST', '/anthropic/api/event_logging/v2/batch')).toMatchObject({ answer: 'telemetry' });
    expect(routeOf('POST', '/openai/v1/batches')).toMatchObject({ kind: 'refused', what: 'POST /batches' });
    expect(routeOf('POST', '/openai/v1/models/../files')).toMatchObject({ kind: 'refused', what: 'POST /files' });
    expect(routeOf('GET', '/v1/models')).toEqual({ kind: 'unknown' });
  });
});
