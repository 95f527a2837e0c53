import { NO_SPEND, type AgentRef, type Ledger, type Spend, type SpendCharge } from '../../ports/ledger.js';

/** A Ledger in this process's memory: enough for one process; runs on several workers need a shared one. */
export class MemoryLedger implements Ledger {
  private readonly agents = new Map<string, Spend>();
  private readonly runs = new Map<string, Spend>();

  async charge(agent: AgentRef, charge: SpendCharge): Promise<void> {
    add(this.agents, agentKey(agent), charge);
    add(this.runs, agent.runId, charge);
  }

  async spent(agent: AgentRef): Promise<{ agent: Spend; run: Spend }> {
    return {
      agent: { ...(this.agents.get(agentKey(agent)) ?? NO_SPEND) },
      run: { ...(this.runs.get(agent.runId) ?? NO_SPEND) },
    };
  }
}

function agentKey(agent: AgentRef): string {
  return JSON.stringify([agent.runId, agent.subtaskId, agent.attempt]);
}

function add(totals: Map<string, Spend>, key: string, charge: SpendCharge): void {
  const spend = totals.get(key) ?? { ...NO_SPEND };
  spend.tokens += charge.tokens;
  if (charge.usd === null) spend.unpricedCalls += 1;
  else spend.usd += charge.usd;
  totals.set(key, spend);
}
