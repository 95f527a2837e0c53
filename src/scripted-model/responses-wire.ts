import type { SseEvent } from './turn-server.js';
import { splitText, withIds, type ScriptedTurn, type ScriptedUsage } from './turns.js';

/** The subset of an OpenAI Responses API request the scripts look at. */
export interface ResponsesBody {
  model: string;
  stream?: boolean;
  instructions?: string | null;
  input: string | ResponsesInputItem[];
  tools?: Array<{ type: string; name?: string }>;
}

/** An input item: a message, an earlier call the model made, or a call's output. */
export interface ResponsesInputItem {
  type?: string;
  role?: string;
  content?: string | Array<{ type: string; text?: string }>;
  call_id?: string;
  name?: string;
  arguments?: string;
  input?: string;
  output?: string | Array<{ type: string; text?: string }>;
}

/** The tool outputs the request carries back to the model (function and custom calls), in order. */
export function responsesToolOutputs(body: ResponsesBody): Array<{ callId: string; text: string }> {
  if (typeof body.input === 'string') return [];
  return body.input
    .filter((item) => item.type === 'function_call_output' || item.type === 'custom_tool_call_output')
    .map((item) => ({
      callId: item.call_id ?? '',
      text: typeof item.output === 'string' ? item.output : (item.output ?? []).map((part) => part.text ?? '').join(''),
    }));
}

/** The text of the user messages in the request (prompt and follow-ups), in order. */
export function responsesUserTexts(body: ResponsesBody): string[] {
  if (typeof body.input === 'string') return [body.input];
  return body.input
    .filter((item) => item.role === 'user')
    .map((item) =>
      typeof item.content === 'string' ? item.content : (item.content ?? []).map((part) => part.text ?? '').join(''),
    );
}

function usageFields(usage: ScriptedUsage) {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

const randomId = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 14)}`;

interface OutputItem {
  /** The item as `output_item.added` announces it. */
  started: Record<string, unknown>;
  /** The item as `output_item.done` and `response.completed` carry it. */
  done: Record<string, unknown>;
  /** The events between added and done. */
  deltas(outputIndex: number): SseEvent[];
}

function outputItems(turn: ScriptedTurn): OutputItem[] {
  const items: OutputItem[] = [];
  const event = (type: string, data: Record<string, unknown>): SseEvent => ({ event: type, data: { type, ...data } });
  if (turn.text) {
    const id = randomId('msg_');
    const text = turn.text;
    const part = { type: 'output_text', text, annotations: [] };
    items.push({
      started: { id, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
      done: { id, type: 'message', role: 'assistant', status: 'completed', content: [part] },
      deltas: (output_index) => [
        event('response.content_part.added', {
          item_id: id,
          output_index,
          content_index: 0,
          part: { ...part, text: '' },
        }),
        ...splitText(text, 24).map((delta) =>
          event('response.output_text.delta', { item_id: id, output_index, content_index: 0, delta, logprobs: [] }),
        ),
        event('response.output_text.done', { item_id: id, output_index, content_index: 0, text, logprobs: [] }),
        event('response.content_part.done', { item_id: id, output_index, content_index: 0, part }),
      ],
    });
  }
  for (const call of withIds(turn, 'call_')) {
    const freeform = typeof call.input === 'string';
    const id = randomId(freeform ? 'ctc_' : 'fc_');
    const payload = typeof call.input === 'string' ? call.input : JSON.stringify(call.input);
    const field = freeform ? 'input' : 'arguments';
    const kind = freeform ? 'custom_tool_call' : 'function_call';
    const deltaType = freeform ? 'response.custom_tool_call_input' : 'response.function_call_arguments';
    const base = { id, type: kind, call_id: call.id, name: call.name };
    items.push({
      started: { ...base, status: 'in_progress', [field]: '' },
      done: { ...base, status: 'completed', [field]: payload },
      deltas: (output_index) => [
        ...splitText(payload, turn.inputChunkSize ?? payload.length).map((delta) =>
          event(`${deltaType}.delta`, { item_id: id, output_index, delta }),
        ),
        event(`${deltaType}.done`, { item_id: id, output_index, [field]: payload }),
      ],
    });
  }
  return items;
}

function responseObject(model: string, status: string, output: unknown[], usage: ScriptedUsage | null) {
  return {
    id: randomId('resp_'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    usage: usage ? usageFields(usage) : null,
  };
}

/** A whole (non-streamed) response. */
export function responsesResponse(model: string, turn: ScriptedTurn, usage: ScriptedUsage) {
  return responseObject(
    model,
    'completed',
    outputItems(turn).map((item) => item.done),
    usage,
  );
}

/**
 * The streamed events of a response, as the Responses API sends them: response.created,
 * response.in_progress, per output item output_item.added / its deltas / output_item.done, and
 * response.completed carrying the whole output and the usage. Each event has a sequence_number.
 */
export function responsesStreamEvents(model: string, turn: ScriptedTurn, usage: ScriptedUsage): SseEvent[] {
  const items = outputItems(turn);
  const inProgress = responseObject(model, 'in_progress', [], null);
  const events: SseEvent[] = [
    { event: 'response.created', data: { type: 'response.created', response: inProgress } },
    { event: 'response.in_progress', data: { type: 'response.in_progress', response: inProgress } },
  ];
  items.forEach((item, output_index) => {
    events.push(
      {
        event: 'response.output_item.added',
        data: { type: 'response.output_item.added', output_index, item: item.started },
      },
      ...item.deltas(output_index),
      {
        event: 'response.output_item.done',
        data: { type: 'response.output_item.done', output_index, item: item.done },
      },
    );
  });
  const completed = {
    ...responseObject(
      model,
      'completed',
      items.map((item) => item.done),
      usage,
    ),
    id: inProgress.id,
  };
  events.push({ event: 'response.completed', data: { type: 'response.completed', response: completed } });
  return events.map((entry, sequence_number) => ({
    ...entry,
    data: { ...(entry.data as Record<string, unknown>), sequence_number },
  }));
}

/** The OpenAI API's error body. */
export function responsesError(status: number, message: string) {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, code: type, param: null } };
}

// Items of the model's own output, as a request's history carries them back.
const OUTPUT_ITEMS = new Set(['function_call', 'custom_tool_call', 'reasoning']);

/**
 * How many times the model has answered in this request's history (one answer may hold several
 * items: a message and tool calls), so a script can play the next turn whatever the order of
 * concurrent agents' requests.
 */
export function responsesAnswerCount(body: ResponsesBody): number {
  if (typeof body.input === 'string') return 0;
  let answers = 0;
  let inAnswer = false;
  for (const item of body.input) {
    const output = OUTPUT_ITEMS.has(item.type ?? '') || (item.type === 'message' && item.role === 'assistant');
    if (output && !inAnswer) answers += 1;
    inAnswer = output;
  }
  return answers;
}
