import { randomBytes } from 'node:crypto';
import type { AgentRef } from '../../ports/ledger.js';
import type { AgentBudget } from './budget.js';
import type { GatewayCallListener } from './call-event.js';
import type { PriceOverrides } from './pricing.js';

/** What a credential is issued for: an agent attempt (charged to its subtask), its budgets, its repository's prices. */
export interface CredentialGrant extends AgentRef {
  budget?: AgentBudget;
  /** The repository's `prices:`, over the gateway's own. */
  prices?: PriceOverrides;
  /** This agent's calls only (the gateway's `onCall` hears them too). */
  onCall?: GatewayCallListener;
  /** Answers this agent's tool-use hook: a reason refuses the call, null lets it run. */
  onToolUse?: ToolUseListener;
}

/** Decides on a tool call an agent CLI is about to make. */
export type ToolUseListener = (use: { tool: string; input: Record<string, unknown> }) => Promise<string | null>;

/** A live credential as the gateway keeps it. */
export interface IssuedCredential {
  token: string;
  agent: AgentRef;
  budget: AgentBudget;
  prices: PriceOverrides;
  onCall?: GatewayCallListener;
  onToolUse?: ToolUseListener;
}

/** The gateway's live per-agent credentials: random, unguessable, valid until revoked. */
export class CredentialRegistry {
  private readonly live = new Map<string, IssuedCredential>();

  /** A fresh credential for the agent attempt. */
  issue(grant: CredentialGrant): IssuedCredential {
    // 256 random bits; the prefix tells a reader what it is (and that it is worth nothing elsewhere).
    const token = `fanout-gw-${randomBytes(32).toString('base64url')}`;
    const { runId, subtaskId, attempt } = grant;
    const credential: IssuedCredential = {
      token,
      agent: { runId, subtaskId, attempt },
      budget: grant.budget ?? {},
      prices: grant.prices ?? {},
      ...(grant.onCall ? { onCall: grant.onCall } : {}),
      ...(grant.onToolUse ? { onToolUse: grant.onToolUse } : {}),
    };
    this.live.set(token, credential);
    return credential;
  }

  /** Ends a credential; true when it was live. */
  revoke(token: string): boolean {
    return this.live.delete(token);
  }

  /** Ends every credential. */
  revokeAll(): void {
    this.live.clear();
  }

  /** The live credential among those a request offered, or null. */
  find(offered: readonly string[]): IssuedCredential | null {
    for (const token of offered) {
      const credential = this.live.get(token);
      if (credential) return credential;
    }
    return null;
  }
}
