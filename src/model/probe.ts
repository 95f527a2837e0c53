import { z } from 'zod';
import { FanoutError } from '../domain/errors.js';
import { LLM_PROVIDER_NAMES, type Llm, type LlmProvider } from '../ports/llm.js';
import { generateObject } from './generate-object.js';

export type ProbeCheckName = 'endpoint' | 'model' | 'tool-call' | 'structured-output';

export interface ProbeCheck {
  name: ProbeCheckName;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
  durationMs: number;
}

export interface ProbeReport {
  ok: boolean;
  /** The API the model was reached through. */
  provider: LlmProvider;
  endpoint: string;
  model: string;
  checks: ProbeCheck[];
}

const PROBE_TOOL = {
  name: 'record_sum',
  description: 'Records the sum of two integers.',
  parameters: {
    type: 'object',
    properties: { a: { type: 'integer' }, b: { type: 'integer' }, sum: { type: 'integer' } },
    required: ['a', 'b', 'sum'],
    additionalProperties: false,
  },
};

const ProbeAnswerSchema = z.object({ word: z.string(), letters: z.number().int() }).strict();

/**
 * Checks that the endpoint answers, the model exists, the model makes a correct tool call, and it
 * returns valid structured output: the capabilities an agent needs before it spends its budget.
 */
export async function probeModel(llm: Llm, signal?: AbortSignal): Promise<ProbeReport> {
  const checks: ProbeCheck[] = [];
  const run = async (name: ProbeCheckName, check: () => Promise<string>): Promise<boolean> => {
    const started = performance.now();
    try {
      const detail = await check();
      checks.push({ name, status: 'passed', detail, durationMs: Math.round(performance.now() - started) });
      return true;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      checks.push({ name, status: 'failed', detail, durationMs: Math.round(performance.now() - started) });
      return false;
    }
  };
  const skip = (name: ProbeCheckName, why: string) =>
    checks.push({ name, status: 'skipped', detail: why, durationMs: 0 });

  let models: string[] | null = null;
  const reachable = await run('endpoint', async () => {
    models = await llm.listModels(signal);
    return models === null ? 'answers (no model list offered)' : `answers, lists ${models.length} model(s)`;
  });
  if (!reachable) {
    for (const name of ['model', 'tool-call', 'structured-output'] as const) skip(name, 'endpoint unreachable');
    return report(llm, checks);
  }
  const listed = models as string[] | null;
  const modelKnown = await run('model', async () => {
    if (listed === null) return 'not listed by the endpoint; assumed present';
    if (!listed.includes(llm.model)) {
      const known = listed.slice(0, 8).join(', ');
      throw new ProbeFailure(`the endpoint does not list model "${llm.model}" (it lists: ${known || 'none'})`);
    }
    return `"${llm.model}" is listed`;
  });
  if (!modelKnown) {
    for (const name of ['tool-call', 'structured-output'] as const) skip(name, 'model not available');
    return report(llm, checks);
  }
  await run('tool-call', async () => {
    const result = await llm.chat({
      messages: [
        { role: 'system', content: 'You are a capability check. Use the tool you are given.' },
        { role: 'user', content: 'Call record_sum with a = 17 and b = 25 and their sum.' },
      ],
      tools: [PROBE_TOOL],
      toolChoice: 'required',
      signal,
    });
    const call = result.toolCalls[0];
    if (!call) throw new ProbeFailure('the model answered with text instead of calling the tool');
    if (call.name !== PROBE_TOOL.name)
      throw new ProbeFailure(`the model called "${call.name}" instead of "${PROBE_TOOL.name}"`);
    let args: unknown;
    try {
      args = JSON.parse(call.arguments);
    } catch {
      throw new ProbeFailure(`the tool-call arguments are not valid JSON: ${call.arguments.slice(0, 200)}`);
    }
    const parsed = z.object({ a: z.number(), b: z.number(), sum: z.number() }).safeParse(args);
    if (!parsed.success || parsed.data.a !== 17 || parsed.data.b !== 25 || parsed.data.sum !== 42) {
      throw new ProbeFailure(
        `the tool-call arguments are wrong: ${call.arguments.slice(0, 200)} (expected a=17, b=25, sum=42)`,
      );
    }
    return 'called record_sum with correct arguments';
  });
  await run('structured-output', async () => {
    const answer = await generateObject({
      llm,
      schema: ProbeAnswerSchema,
      name: 'probe_answer',
      maxRepairs: 1,
      signal,
      messages: [{ role: 'user', content: 'Reply with JSON: the word "fanout" and its number of letters.' }],
    });
    if (answer.value.word !== 'fanout' || answer.value.letters !== 6) {
      throw new ProbeFailure(`valid JSON but wrong content: ${JSON.stringify(answer.value)}`);
    }
    return 'returned valid JSON for the schema';
  });
  return report(llm, checks);
}

class ProbeFailure extends FanoutError {
  constructor(message: string) {
    super('probe-failed', message);
  }
}

function report(llm: Llm, checks: ProbeCheck[]): ProbeReport {
  return {
    ok: checks.every((check) => check.status === 'passed'),
    provider: llm.provider,
    endpoint: llm.endpoint,
    model: llm.model,
    checks,
  };
}

/** One line per check, for terminals and for the message a run stops with. */
export function formatProbeReport(report: ProbeReport): string {
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;
  const lines = report.checks.map((check) => `  ${mark[check.status]} ${check.name.padEnd(18)} ${check.detail}`);
  const model = `Model "${report.model}" (${LLM_PROVIDER_NAMES[report.provider]}) at ${report.endpoint}`;
  const verdict = report.ok ? `${model} is ready for agents.` : `${model} is NOT usable for agents.`;
  return [verdict, ...lines].join('\n');
}
