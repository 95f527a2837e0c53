import type { ModelCost } from '../domain/model-cost.js';

/** Dollars to the hundredth of a cent: "$0.0123". */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

/** A cost as people read it: "$0.0123", "cost unknown for my-model", or both when only some calls had a price. */
export function formatCost(cost: ModelCost): string {
  if (cost.unpricedModels.length === 0) return formatUsd(cost.usd);
  const unknown = `cost unknown for ${cost.unpricedModels.join(', ')}`;
  return cost.usd > 0 ? `${formatUsd(cost.usd)} + ${unknown}` : unknown;
}
