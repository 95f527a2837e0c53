/** The APIs whose answers the gateway meters. */
export type MeteredApi = 'openai-chat' | 'openai-responses' | 'anthropic-messages';

/** Tokens of one model call, the same whatever API reported them. */
export interface ModelUsage {
  /** Every prompt token, those read from or written to a prompt cache included. */
  inputTokens: number;
  outputTokens: number;
  /** Of `inputTokens`, those read from a prompt cache (billed cheaper). */
  cachedInputTokens: number;
  /** Of `inputTokens`, those written to a prompt cache (Anthropic bills them dearer). */
  cacheWriteTokens: number;
}

/** Input and output tokens together: what a token budget counts. */
export function totalTokens(usage: ModelUsage): number {
  return usage.inputTokens + usage.outputTokens;
}

/**
 * The usage object of an answer (a JSON body, a final stream chunk, `response.usage`) in the
 * API's own shape, normalized; null when it holds no token counts.
 */
export function usageFromApi(api: MeteredApi, raw: unknown): ModelUsage | null {
  if (!isRecord(raw)) return null;
  if (api === 'anthropic-messages') return anthropicUsage(raw);
  // Chat completions say prompt/completion, responses say input/output; both count cached
  // tokens inside the prompt total.
  const input = count(raw.prompt_tokens) ?? count(raw.input_tokens);
  const output = count(raw.completion_tokens) ?? count(raw.output_tokens);
  if (input === null && output === null) return null;
  const details = raw.prompt_tokens_details ?? raw.input_tokens_details;
  const cached = isRecord(details) ? (count(details.cached_tokens) ?? 0) : 0;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0, cachedInputTokens: cached, cacheWriteTokens: 0 };
}

/**
 * Anthropic's usage fields as they stand after `message_start` and any `message_delta`s: a later
 * event's counts replace earlier ones (they are cumulative), absent fields keep theirs.
 */
export interface AnthropicCounts {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** Folds one Anthropic usage object into the counts so far. */
export function mergeAnthropicCounts(counts: AnthropicCounts, raw: unknown): AnthropicCounts {
  if (!isRecord(raw)) return counts;
  const next = { ...counts };
  for (const field of ANTHROPIC_FIELDS) {
    const value = count(raw[field]);
    if (value !== null) next[field] = value;
  }
  return next;
}

const ANTHROPIC_FIELDS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

function anthropicUsage(raw: Record<string, unknown>): ModelUsage | null {
  const counts = mergeAnthropicCounts({}, raw);
  if (counts.input_tokens === undefined && counts.output_tokens === undefined) return null;
  // Anthropic's input_tokens leaves out the tokens read from or written to the cache.
  const cacheWrite = counts.cache_creation_input_tokens ?? 0;
  const cacheRead = counts.cache_read_input_tokens ?? 0;
  return {
    inputTokens: (counts.input_tokens ?? 0) + cacheWrite + cacheRead,
    outputTokens: counts.output_tokens ?? 0,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

/** A plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
