import { z } from 'zod';
import { StructuredOutputError } from '../domain/errors.js';
import type { ChatMessage, Llm, TokenUsage } from '../ports/llm.js';

export interface GenerateObjectOptions<T> {
  llm: Llm;
  schema: z.ZodType<T>;
  /** Name of the schema sent with the request (letters, digits, `_`, `-`). */
  name: string;
  messages: ChatMessage[];
  /** How many times a bad answer is sent back with the validation error. */
  maxRepairs?: number;
  signal?: AbortSignal;
}

export interface GeneratedObject<T> {
  value: T;
  usage: TokenUsage;
  /** Model calls made, including repairs. */
  calls: number;
}

/**
 * Asks for JSON matching a zod schema (the schema drives the request's response format) and
 * validates the answer. A bad answer goes back to the model with the exact problem; after
 * `maxRepairs` tries it throws StructuredOutputError, never a parse crash.
 */
export async function generateObject<T>(options: GenerateObjectOptions<T>): Promise<GeneratedObject<T>> {
  const maxRepairs = options.maxRepairs ?? 2;
  const jsonSchema = z.toJSONSchema(options.schema, { io: 'input' }) as Record<string, unknown>;
  delete jsonSchema.$schema;
  const messages = [...options.messages];
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  let lastProblem = '';
  let lastAnswer = '';
  for (let call = 1; call <= maxRepairs + 1; call += 1) {
    const result = await options.llm.chat({
      messages,
      responseFormat: { name: options.name, schema: jsonSchema },
      signal: options.signal,
    });
    usage.promptTokens += result.usage?.promptTokens ?? 0;
    usage.completionTokens += result.usage?.completionTokens ?? 0;
    lastAnswer = result.content ?? '';
    const parsed = parseAnswer(lastAnswer, options.schema);
    if (parsed.ok) return { value: parsed.value, usage, calls: call };
    lastProblem = parsed.problem;
    messages.push({ role: 'assistant', content: lastAnswer });
    messages.push({
      role: 'user',
      content: `Your answer could not be used: ${parsed.problem}\nAnswer again with only a JSON object that matches the schema "${options.name}".`,
    });
  }
  throw new StructuredOutputError(
    `The model "${options.llm.model}" did not return valid "${options.name}" JSON after ${maxRepairs + 1} tries. Last problem: ${lastProblem}`,
    lastAnswer,
  );
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Parses model text as JSON (tolerating a Markdown code fence) and validates it. */
export function parseAnswer<T>(text: string, schema: z.ZodType<T>): Parsed<T> {
  const body = stripFence(text.trim());
  if (body === '') return { ok: false, problem: 'the answer was empty.' };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { ok: false, problem: `it is not valid JSON (${error instanceof Error ? error.message : String(error)}).` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues
    .slice(0, 8)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem: `it does not match the schema (${issues}).` };
}

function stripFence(text: string): string {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(text);
  return fenced ? (fenced[1] ?? '').trim() : text;
}
