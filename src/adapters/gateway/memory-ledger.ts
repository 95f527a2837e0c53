import { NO_SPEND, type Ledger, type Spend, type SpendCharge, type SpendRef } from '../../ports/ledger.js';

/** A Ledger in this process's memory: enough for one process and tests; runs on several workers need a shared one. */
export class MemoryLedger implements Ledger {
  private readonly agents = new Map<string, Spend>();
  private readonly runs = new Map<string, Spend>();

  async charge(ref: SpendRef, charge: SpendCharge): Promise<void> {
    add(this.agents, agentKey(ref), charge);
    add(this.runs, ref.runId, charge);
  }

  async spent(ref: SpendRef): Promise<{ agent: Spend; run: Spend }> {
    return {
      agent: { ...(this.agents.get(agentKey(ref)) ?? NO_SPEND) },
      run: { ...(this.runs.get(ref.runId) ?? NO_SPEND) },
    };
  }

  async close(): Promise<void> {}
}

function agentKey(ref: SpendRef): string {
  return JSON.stringify([ref.runId, ref.subtaskId]);
}

function add(totals: Map<string, Spend>, key: string, charge: SpendCharge): void {
  const spend = totals.get(key) ?? { ...NO_SPEND };
  spend.tokens += charge.tokens;
  if (charge.usd === null) spend.unpricedCalls += 1;
  else spend.usd += charge.usd;
  totals.set(key, spend);
}
