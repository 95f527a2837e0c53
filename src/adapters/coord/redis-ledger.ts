import { Redis } from 'ioredis';
import { NO_SPEND, type Ledger, type Spend, type SpendCharge, type SpendRef } from '../../ports/ledger.js';

/**
 * The Ledger on Redis, for runs whose agents work in several processes (`REDIS_URL`): one hash per
 * run under the prefix (`<prefix>:spend:<run>`), with a subtask's and the run's counters side by
 * side. A charge is one MULTI of HINCRBY / HINCRBYFLOAT, so charges from any number of gateways
 * add up and a reader never sees a subtask charged without its run.
 */
export class RedisLedger implements Ledger {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'fanout',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
    // ioredis reconnects by itself; a failed command rejects where it was made.
    this.redis.on('error', () => undefined);
  }

  async charge(ref: SpendRef, charge: SpendCharge): Promise<void> {
    const key = this.key(ref.runId);
    const multi = this.redis.multi();
    for (const scope of [agentScope(ref), 'run']) {
      multi.hincrby(key, `${scope}:tokens`, Math.round(charge.tokens));
      if (charge.usd === null) multi.hincrby(key, `${scope}:unpriced`, 1);
      else multi.hincrbyfloat(key, `${scope}:usd`, charge.usd);
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (failed) throw failed;
    if (!results) throw new Error(`Redis discarded the charge to run ${ref.runId}`);
  }

  async spent(ref: SpendRef): Promise<{ agent: Spend; run: Spend }> {
    const fields = [agentScope(ref), 'run'].flatMap((scope) => [
      `${scope}:tokens`,
      `${scope}:usd`,
      `${scope}:unpriced`,
    ]);
    const values = await this.redis.hmget(this.key(ref.runId), ...fields);
    return { agent: spend(values.slice(0, 3)), run: spend(values.slice(3)) };
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }

  private key(runId: string): string {
    return [this.prefix, 'spend', runId].join(':');
  }
}

function agentScope(ref: SpendRef): string {
  return `agent:${ref.subtaskId}`;
}

function spend([tokens, usd, unpriced]: Array<string | null>): Spend {
  if (tokens === null && usd === null && unpriced === null) return { ...NO_SPEND };
  return { tokens: Number(tokens ?? 0), usd: Number(usd ?? 0), unpricedCalls: Number(unpriced ?? 0) };
}
