import type { IncomingHttpHeaders } from 'node:http';

/**
 * One scripted model turn for the agent CLIs' wire formats (Anthropic messages, OpenAI responses):
 * say some text, call tools, or both; or misbehave (an HTTP error, a delay, a hang, a stall).
 */
export interface ScriptedTurn {
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /** Reported in the wire format's usage fields; estimated from the sizes when absent. */
  usage?: ScriptedUsage;
  /** When streaming, split each tool call's input into pieces of this many characters. */
  inputChunkSize?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with an HTTP error in the wire format's error shape instead. */
  error?: { status: number; message: string; retryAfterSeconds?: number };
  /** Never answer; the connection stays open until the client gives up. */
  hang?: boolean;
  /** When streaming, send this many events and then go silent (the connection stays open). */
  stallAfterEvents?: number;
}

/**
 * A tool call the model makes. An object `input` is a JSON function call; a string `input` is a
 * freeform call (the Responses API's `custom_tool_call`, which Codex uses for `apply_patch`).
 */
export interface ScriptedToolCall {
  name: string;
  input: Record<string, unknown> | string;
  id?: string;
}

/**
 * Token counts for one turn. `inputTokens` goes to each format's input field as it is (the
 * Anthropic API counts cache reads apart from input; the Responses API counts them inside it).
 */
export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheCreationInputTokens?: number;
}

/** A model call as the scripted server received it. */
export interface RecordedCall<Body> {
  /** Position among the model calls (0 for the first). */
  index: number;
  method: string;
  /** The path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** The query string without `?`, or '' (Claude Code sends `beta=true`). */
  query: string;
  headers: IncomingHttpHeaders;
  body: Body;
}

/** Any HTTP request the scripted server received, model call or not, in arrival order. */
export interface TrafficEntry {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Turns in order, or a function of the call (for concurrent agents, or to answer by model or content). */
export type TurnScript<Body> = ScriptedTurn[] | ((call: RecordedCall<Body>) => ScriptedTurn | Promise<ScriptedTurn>);

/** A turn that calls one tool. */
export function toolCall(
  name: string,
  input: Record<string, unknown> | string,
  extra: Partial<ScriptedTurn> = {},
): ScriptedTurn {
  return { toolCalls: [{ name, input }], ...extra };
}

/** A turn that only answers with text (the agent ends its session on it). */
export function answer(text: string, extra: Partial<ScriptedTurn> = {}): ScriptedTurn {
  return { text, ...extra };
}

/** Tool calls with their ids filled in (the prefix is the wire format's: `toolu_`, `call_`). */
export function withIds(turn: ScriptedTurn, prefix: string): Array<Required<ScriptedToolCall>> {
  return (turn.toolCalls ?? []).map((call, index) => ({
    name: call.name,
    input: call.input,
    id: call.id ?? `${prefix}${index}_${Math.random().toString(36).slice(2, 12)}`,
  }));
}

/** Rough token counts (4 characters a token) so budgets see realistic growth. */
export function estimateUsage(requestBody: unknown, turn: ScriptedTurn): ScriptedUsage {
  const outputChars = (turn.text ?? '').length + JSON.stringify(turn.toolCalls ?? []).length;
  return {
    inputTokens: Math.ceil(JSON.stringify(requestBody).length / 4),
    outputTokens: Math.max(1, Math.ceil(outputChars / 4)),
  };
}

/** Splits text into pieces of `size` characters (one empty piece for empty text). */
export function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += Math.max(size, 1)) pieces.push(text.slice(at, at + size));
  return pieces.length > 0 ? pieces : [''];
}
