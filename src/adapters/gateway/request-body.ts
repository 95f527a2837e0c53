import { isRecord, type MeteredApi } from './model-usage.js';

/** What the gateway reads from a model call's JSON body before forwarding it. */
export interface RequestFacts {
  /** The parsed body; null when it is not a JSON object (forwarded as it came, unmetered changes). */
  json: Record<string, unknown> | null;
  model: string | null;
  stream: boolean;
}

/** Reads the model and the stream flag of a request body. */
export function readRequest(body: Buffer): RequestFacts {
  let json: unknown = null;
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : null;
  } catch {
    json = null;
  }
  if (!isRecord(json)) return { json: null, model: null, stream: false };
  return { json, model: typeof json.model === 'string' ? json.model : null, stream: json.stream === true };
}

// The field that caps a call's output, per API (chat also accepts the older max_tokens).
const OUTPUT_CAP_FIELD: Record<MeteredApi, string> = {
  'openai-chat': 'max_completion_tokens',
  'openai-responses': 'max_output_tokens',
  'anthropic-messages': 'max_tokens',
};

// Anthropic refuses a thinking budget under this many tokens.
const MIN_THINKING_BUDGET = 1024;

/**
 * The body to forward, or null to forward the original bytes: a streamed chat completion asks for
 * its usage (`stream_options.include_usage`), and the output cap is lowered to what the budgets
 * have left so one call cannot run far past them.
 */
export function rewriteRequest(api: MeteredApi, facts: RequestFacts, outputLeft: number | null): Buffer | null {
  if (!facts.json) return null;
  const body = { ...facts.json };
  let changed = false;
  if (api === 'openai-chat' && facts.stream) {
    const options = isRecord(body.stream_options) ? body.stream_options : {};
    if (options.include_usage !== true) {
      body.stream_options = { ...options, include_usage: true };
      changed = true;
    }
  }
  if (outputLeft !== null) changed = clampOutput(api, body, outputLeft) || changed;
  return changed ? Buffer.from(JSON.stringify(body)) : null;
}

function clampOutput(api: MeteredApi, body: Record<string, unknown>, left: number): boolean {
  const field =
    api === 'openai-chat' && body.max_completion_tokens === undefined && body.max_tokens !== undefined
      ? 'max_tokens'
      : OUTPUT_CAP_FIELD[api];
  const asked = body[field];
  if (typeof asked === 'number' && asked <= left) return false;
  body[field] = left;
  if (api === 'anthropic-messages') clampThinking(body, left);
  return true;
}

// Anthropic wants max_tokens above the thinking budget: lower the budget too, or turn thinking
// off when what is left cannot hold the smallest budget.
function clampThinking(body: Record<string, unknown>, maxTokens: number): void {
  const thinking = body.thinking;
  if (!isRecord(thinking) || typeof thinking.budget_tokens !== 'number' || thinking.budget_tokens < maxTokens) return;
  body.thinking =
    maxTokens - 1 >= MIN_THINKING_BUDGET ? { ...thinking, budget_tokens: maxTokens - 1 } : { type: 'disabled' };
}
