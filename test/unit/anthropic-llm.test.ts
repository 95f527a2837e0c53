import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicLlm, type AnthropicLlmOptions } from '../../src/adapters/llm/anthropic-llm.js';
import { LlmError } from '../../src/domain/errors.js';
import { probeModel } from '../../src/model/probe.js';
import { planTask } from '../../src/plan/planner.js';
import {
  startScriptedAnthropicServer,
  type ScriptedAnthropicServer,
} from '../../src/scripted-model/anthropic-server.js';
import { answer, toolCall, type TurnScript } from '../../src/scripted-model/turns.js';
import type { AnthropicMessagesBody } from '../../src/scripted-model/anthropic-wire.js';

const servers: ScriptedAnthropicServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A scripted messages API (closed after the test) and a real AnthropicLlm, the official SDK inside, pointed at it. */
async function scriptedClaude(
  script: TurnScript<AnthropicMessagesBody>,
  options: Partial<AnthropicLlmOptions> & { models?: string[] } = {},
) {
  const { models, ...llmOptions } = options;
  const server = await startScriptedAnthropicServer({ script, ...(models ? { models } : {}) });
  servers.push(server);
  const llm = new AnthropicLlm({
    baseUrl: server.baseUrl,
    apiKey: 'sk-ant-test-key',
    model: 'claude-scripted',
    timeoutMs: 5_000,
    maxAnswerBytes: 1_000_000,
    idleTimeoutMs: 2_000,
    maxRetries: 1,
    stream: true,
    ...llmOptions,
  });
  return { llm, server };
}

const FILES = ['package.json', 'src/cli.ts', 'src/lib/parse.ts', 'test/cli.test.ts', 'README.md'];
const PLAN = {
  subtasks: [
    {
      id: 'cli',
      title: 'CLI',
      instructions: 'Validate the flags.',
      writeScope: ['src/cli.ts', 'test/cli.test.ts'],
      readScope: [],
      dependsOn: [],
    },
    { id: 'lib', title: 'Parser', instructions: 'Harden it.', writeScope: ['./src/lib'], readScope: [], dependsOn: [] },
  ],
};
const WRITE_FILE = {
  name: 'write_file',
  description: 'Write a file',
  parameters: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } },
};

describe('AnthropicLlm against the scripted messages API', () => {
  it.each([true, false])(
    'plans through the real SDK, the plan schema as a forced tool call (stream: %s)',
    async (stream) => {
      const { llm, server } = await scriptedClaude([toolCall('plan', PLAN, { inputChunkSize: 7 })], { stream });
      const result = await planTask({ llm, task: 'Improve the CLI', files: FILES });
      expect(result.plan.subtasks.map((subtask) => [subtask.id, subtask.writeScope])).toEqual([
        ['cli', ['src/cli.ts', 'test/cli.test.ts']],
        ['lib', ['src/lib/']],
      ]);
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      const body = server.requests[0]!.body as AnthropicMessagesBody & {
        tool_choice?: unknown;
        tools: Array<{ name: string; input_schema: { type: string } }>;
      };
      expect(Boolean(body.stream)).toBe(stream);
      expect(body.tool_choice).toEqual({ type: 'tool', name: 'plan' });
      expect(body.tools.map((tool) => tool.name)).toEqual(['plan']);
      expect(body.tools[0]!.input_schema.type).toBe('object');
      expect(JSON.stringify(body.tools[0]!.input_schema)).toContain('writeScope');
      // The system prompt goes apart; the conversation is the task alone.
      expect(body.system).toContain('At most 4 subtasks');
      expect(body.messages).toHaveLength(1);
      expect(JSON.stringify(body.messages[0])).toContain('src/lib/parse.ts');
      expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-ant-test-key');
    },
  );

  it('sends a plan that does not parse back to the model, and takes the repaired one', async () => {
    const { llm, server } = await scriptedClaude([answer('Here is my plan: none'), toolCall('plan', PLAN)]);
    const result = await planTask({ llm, task: 'Improve the CLI', files: FILES });
    expect(result.plan.subtasks).toHaveLength(2);
    const repair = server.requests[1]!.body.messages;
    expect(repair.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(repair[2])).toContain('Your answer could not be used');
  });

  it('makes a tool call round trip: tool_use in, the assistant turn and its tool_result back, usage counted', async () => {
    const content = 'line one\nline "two" with unicode: é✓\n'.repeat(10);
    const { llm, server } = await scriptedClaude([
      {
        text: 'Writing it.',
        toolCalls: [
          { name: 'write_file', input: { path: 'src/a.ts', content } },
          { name: 'read_file', input: { path: 'b' } },
        ],
        inputChunkSize: 3,
        usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 30, cacheCreationInputTokens: 5 },
      },
      answer('Done.', { usage: { inputTokens: 150, outputTokens: 4 } }),
    ]);
    const first = await llm.chat({
      messages: [
        { role: 'system', content: 'You are an agent.' },
        { role: 'user', content: 'write it' },
      ],
      tools: [WRITE_FILE],
      toolChoice: 'auto',
    });
    expect(first.content).toBe('Writing it.');
    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['write_file', { path: 'src/a.ts', content }],
      ['read_file', { path: 'b' }],
    ]);
    // Cache reads and writes are input too.
    expect(first.usage).toEqual({ promptTokens: 135, completionTokens: 20 });

    const second = await llm.chat({
      messages: [
        { role: 'system', content: 'You are an agent.' },
        { role: 'user', content: 'write it' },
        { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
        { role: 'tool', toolCallId: first.toolCalls[0]!.id, content: 'wrote src/a.ts' },
        { role: 'tool', toolCallId: first.toolCalls[1]!.id, content: 'b text' },
        { role: 'user', content: 'Hint: finish when done.' },
      ],
      tools: [WRITE_FILE],
    });
    expect(second).toEqual({
      content: 'Done.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { promptTokens: 150, completionTokens: 4 },
    });
    const sent = server.requests[1]!.body;
    expect(sent.system).toBe('You are an agent.');
    expect(sent.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent.messages[1]!.content).toEqual([
      { type: 'text', text: 'Writing it.' },
      { type: 'tool_use', id: first.toolCalls[0]!.id, name: 'write_file', input: { path: 'src/a.ts', content } },
      { type: 'tool_use', id: first.toolCalls[1]!.id, name: 'read_file', input: { path: 'b' } },
    ]);
    // Both results and the hint in one user turn: the API wants turns alternating.
    expect(sent.messages[2]!.content).toEqual([
      { type: 'tool_result', tool_use_id: first.toolCalls[0]!.id, content: 'wrote src/a.ts' },
      { type: 'tool_result', tool_use_id: first.toolCalls[1]!.id, content: 'b text' },
      { type: 'text', text: 'Hint: finish when done.' },
    ]);
  });

  it('maps tool choices: required is any, a name is that tool', async () => {
    const { llm, server } = await scriptedClaude([toolCall('write_file', { path: 'a' }), toolCall('write_file', {})]);
    await llm.chat({ messages: [{ role: 'user', content: 'go' }], tools: [WRITE_FILE], toolChoice: 'required' });
    const named = await llm.chat({
      messages: [{ role: 'user', content: 'go' }],
      tools: [WRITE_FILE],
      toolChoice: { name: 'write_file' },
    });
    const choices = server.requests.map((request) => (request.body as { tool_choice?: unknown }).tool_choice);
    expect(choices).toEqual([{ type: 'any' }, { type: 'tool', name: 'write_file' }]);
    // A call without arguments streams no input pieces: its input is `{}`.
    expect(named.toolCalls[0]!.arguments).toBe('{}');
  });

  it('bounds a runaway answer by its size: cut off, asked again, then llm-answer-too-large', async () => {
    const { llm, server } = await scriptedClaude(() => answer('x'.repeat(2_000_000)), { maxAnswerBytes: 64 * 1024 });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ code: 'llm-answer-too-large' });
    expect((error as Error).message).toContain('larger than 65536 bytes (FANOUT_LLM_MAX_ANSWER_BYTES)');
    expect(server.requests).toHaveLength(2);
  });

  it('bounds an answer that stops coming by FANOUT_LLM_TIMEOUT_MS, its stream included', async () => {
    const { llm } = await scriptedClaude([answer('never finished', { stallAfterEvents: 3 })], {
      timeoutMs: 800,
      idleTimeoutMs: 60_000,
      maxRetries: 0,
    });
    const error = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'llm-timeout' });
    expect((error as Error).message).toContain('within 800 ms (FANOUT_LLM_TIMEOUT_MS)');
  });

  it('wraps errors into LlmError codes, the key redacted from what the endpoint echoed', async () => {
    const { llm } = await scriptedClaude([
      { error: { status: 401, message: 'invalid x-api-key: sk-ant-test-key' } },
      { error: { status: 529, message: 'Overloaded' } },
      { error: { status: 529, message: 'Overloaded' } },
    ]);
    const auth = await llm.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(auth).toMatchObject({ code: 'llm-auth', status: 401 });
    expect((auth as Error).message).toContain('Check ANTHROPIC_API_KEY');
    expect((auth as Error).message).not.toContain('sk-ant-test-key');
    const overloaded = await llm
      .chat({ messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(overloaded).toMatchObject({ code: 'llm-server-error', status: 529 });
    const dead = new AnthropicLlm({ ...llmSettings(), baseUrl: 'http://127.0.0.1:9' });
    const unreachable = await dead
      .chat({ messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(unreachable).toMatchObject({ code: 'llm-unreachable' });
    expect((unreachable as Error).message).toContain('Check ANTHROPIC_BASE_URL');
  });

  it("lists the endpoint's models and passes doctor's probe (tool call, structured output)", async () => {
    const { llm } = await scriptedClaude(
      [toolCall('record_sum', { a: 17, b: 25, sum: 42 }), toolCall('probe_answer', { word: 'fanout', letters: 6 })],
      { models: ['claude-other', 'claude-scripted'] },
    );
    expect(await llm.listModels()).toEqual(['claude-other', 'claude-scripted']);
    const report = await probeModel(llm);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ['endpoint', 'passed'],
      ['model', 'passed'],
      ['tool-call', 'passed'],
      ['structured-output', 'passed'],
    ]);
    expect(report).toMatchObject({ ok: true, provider: 'anthropic', model: 'claude-scripted' });
  });
});

function llmSettings(): AnthropicLlmOptions {
  return {
    baseUrl: 'http://127.0.0.1:9',
    apiKey: 'k',
    model: 'claude-scripted',
    timeoutMs: 5_000,
    maxAnswerBytes: 1_000_000,
    idleTimeoutMs: 2_000,
    maxRetries: 0,
    stream: true,
  };
}
