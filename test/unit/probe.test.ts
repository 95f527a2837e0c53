import { describe, expect, it } from 'vitest';
import { OpenAiLlm } from '../../src/adapters/llm/openai-llm.js';
import { formatProbeReport, probeModel } from '../../src/model/probe.js';
import { deadEndpoint, scriptedLlm } from '../support/scripted-llm.js';

const GOOD_TOOL_CALL = {
  toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }],
  argumentChunkSize: 4,
};
const GOOD_JSON = { content: '{"word":"fanout","letters":6}' };

describe('probeModel', () => {
  it('passes a capable model, check by check', async () => {
    const { llm } = await scriptedLlm([GOOD_TOOL_CALL, GOOD_JSON]);
    const report = await probeModel(llm);
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ['endpoint', 'passed'],
      ['model', 'passed'],
      ['tool-call', 'passed'],
      ['structured-output', 'passed'],
    ]);
  });

  it('fails a model that answers in text instead of calling the tool', async () => {
    const { llm } = await scriptedLlm([{ content: 'The sum is 42.' }, GOOD_JSON]);
    const report = await probeModel(llm);
    expect(report.ok).toBe(false);
    const toolCheck = report.checks.find((check) => check.name === 'tool-call')!;
    expect(toolCheck).toMatchObject({
      status: 'failed',
      detail: 'the model answered with text instead of calling the tool',
    });
    expect(formatProbeReport(report)).toContain('NOT usable for agents');
  });

  it('fails a model whose tool-call arguments are wrong or empty', async () => {
    const { llm } = await scriptedLlm([{ toolCalls: [{ name: 'record_sum', arguments: '' }] }, GOOD_JSON]);
    const report = await probeModel(llm);
    expect(report.checks.find((check) => check.name === 'tool-call')).toMatchObject({ status: 'failed' });
    expect(report.checks.find((check) => check.name === 'tool-call')!.detail).toContain('not valid JSON');
  });

  it('fails a model that cannot produce the structured output', async () => {
    const { llm } = await scriptedLlm([GOOD_TOOL_CALL, { content: 'fanout has 6 letters' }, { content: 'six' }]);
    const report = await probeModel(llm);
    expect(report.checks.find((check) => check.name === 'structured-output')).toMatchObject({ status: 'failed' });
  });

  it('names a model the endpoint does not list and skips the rest', async () => {
    const { llm } = await scriptedLlm([], { model: 'gpt-imaginary', models: ['llama3', 'qwen2.5-coder'] });
    const report = await probeModel(llm);
    expect(report.checks.map((check) => check.status)).toEqual(['passed', 'failed', 'skipped', 'skipped']);
    expect(report.checks[1]!.detail).toContain('does not list model "gpt-imaginary" (it lists: llama3, qwen2.5-coder)');
  });

  it('reports an unreachable endpoint and skips the rest', async () => {
    const llm = new OpenAiLlm({
      baseUrl: deadEndpoint(),
      apiKey: 'k',
      model: 'm',
      timeoutMs: 1_000,
      maxAnswerBytes: 1_000_000,
      idleTimeoutMs: 1_000,
      maxRetries: 0,
      stream: true,
    });
    const report = await probeModel(llm);
    expect(report.ok).toBe(false);
    expect(report.checks.map((check) => check.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped']);
    expect(report.checks[0]!.detail).toContain('Cannot reach the model endpoint');
  });
});
