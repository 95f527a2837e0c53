import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';
import { createLlm } from '../../src/main.js';

const llmOf = (variables: Record<string, string>) => {
  const llm = createLlm(loadEnv(variables));
  return { provider: llm.provider, model: llm.model, endpoint: llm.endpoint };
};

describe("the planner's model, chosen from the environment", () => {
  it('plans with Claude when ANTHROPIC_API_KEY is the only key, a current Sonnet unless FANOUT_MODEL says otherwise', () => {
    expect(llmOf({ ANTHROPIC_API_KEY: 'sk-ant' })).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-5-5',
      endpoint: 'https://api.anthropic.com',
    });
    expect(
      llmOf({
        ANTHROPIC_API_KEY: 'sk-ant',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080',
        FANOUT_MODEL: 'claude-opus-5',
      }),
    ).toEqual({ provider: 'anthropic', model: 'claude-opus-5', endpoint: 'http://127.0.0.1:8080' });
  });

  it('keeps OpenAI-compatible planning whenever OpenAI is configured: a key, or a server of its own', () => {
    expect(llmOf({ OPENAI_API_KEY: 'sk', ANTHROPIC_API_KEY: 'sk-ant' })).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-mini',
    });
    expect(llmOf({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', ANTHROPIC_API_KEY: 'sk-ant' })).toMatchObject({
      provider: 'openai',
      endpoint: 'http://127.0.0.1:11434/v1',
    });
  });

  it('without any key, says which to set', () => {
    expect(() => createLlm(loadEnv({}))).toThrow(ConfigError);
    expect(() => createLlm(loadEnv({}))).toThrow(/OPENAI_API_KEY is not set.*ANTHROPIC_API_KEY to plan with Claude/);
  });
});
