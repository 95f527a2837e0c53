/**
 * What an agent's model calls cost, as the gateway priced them. Calls to a model with no known
 * price are not in `usd`: their models are named in `unpricedModels`, never guessed at.
 */
export interface ModelCost {
  usd: number;
  /** Models some call went to without a known price, sorted (empty: `usd` is the whole cost). */
  unpricedModels: string[];
}

/** Nothing spent yet. */
export const NO_COST: Readonly<ModelCost> = Object.freeze({ usd: 0, unpricedModels: [] });

/** Two costs added up (either may be absent: a record from before costs were kept). */
export function addCosts(a: ModelCost | undefined, b: ModelCost | undefined): ModelCost {
  return {
    usd: (a?.usd ?? 0) + (b?.usd ?? 0),
    unpricedModels: [...new Set([...(a?.unpricedModels ?? []), ...(b?.unpricedModels ?? [])])].sort(),
  };
}
