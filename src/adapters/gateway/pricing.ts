import { BUILT_IN_PRICES } from './built-in-prices.js';
import type { ModelUsage } from './model-usage.js';

/** USD per million tokens. Cached input defaults to the input price, as does a cache write. */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
}

/** Per-model prices from `.github/fanout.yml` (`prices:`), which win over the built-in table. */
export type PriceOverrides = Readonly<Record<string, ModelPrice>>;

/** A model's price and where it came from; `unknown` means neither table names the model. */
export type PriceLookup =
  { source: 'config' | 'built-in'; model: string; price: ModelPrice } | { source: 'unknown'; price: null };

// A dated snapshot of a model: claude-sonnet-4-5-20250929, gpt-4.1-mini-2025-04-14, or -latest.
const SNAPSHOT_SUFFIX = /^-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

/**
 * The price of the first of `models` (the answer's model, then the request's) that the overrides
 * or the built-in table name, exactly or as a dated snapshot. Never a guess from a similar name:
 * claude-opus-4-9 is unknown, not claude-opus-4.
 */
export function lookUpPrice(models: ReadonlyArray<string | null>, overrides: PriceOverrides = {}): PriceLookup {
  for (const model of models) {
    if (!model) continue;
    const fromConfig = find(overrides, model);
    if (fromConfig) return { source: 'config', model, price: fromConfig };
    const builtIn = find(BUILT_IN_PRICES, model);
    if (builtIn) return { source: 'built-in', model, price: builtIn };
  }
  return { source: 'unknown', price: null };
}

function find(table: PriceOverrides, model: string): ModelPrice | null {
  const exact = Object.hasOwn(table, model) ? table[model] : undefined;
  if (exact) return exact;
  for (const [name, price] of Object.entries(table)) {
    if (model.startsWith(name) && SNAPSHOT_SUFFIX.test(model.slice(name.length))) return price;
  }
  return null;
}

/** What a call cost in USD at this price. */
export function costUsd(usage: ModelUsage, price: ModelPrice): number {
  const plainInput = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const micro =
    plainInput * price.input +
    usage.cachedInputTokens * (price.cachedInput ?? price.input) +
    usage.cacheWriteTokens * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return micro / 1_000_000;
}
