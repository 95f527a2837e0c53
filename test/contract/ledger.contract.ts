import { afterEach, describe, expect, it } from 'vitest';
import type { AgentRef, Ledger } from '../../src/ports/ledger.js';

/** Two views of the same ledger, as two processes (two gateways) have. */
export type LedgerFactory = () => Promise<{ ledger: Ledger; peer: () => Promise<Ledger> }>;

/** The behaviour every Ledger must show, as the port's doc comments state it. */
export function ledgerContract(name: string, make: LedgerFactory): void {
  describe(`Ledger contract: ${name}`, () => {
    const opened: Ledger[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
    });
    const pair = async () => {
      const made = await make();
      const peer = await made.peer();
      opened.push(made.ledger, peer);
      return { a: made.ledger, b: peer };
    };

    it('has nothing spent for a run or subtask it never charged', async () => {
      const { a } = await pair();
      expect(await a.spent({ runId: 'r-none', subtaskId: 's' })).toEqual({
        agent: { tokens: 0, usd: 0, unpricedCalls: 0 },
        run: { tokens: 0, usd: 0, unpricedCalls: 0 },
      });
    });

    it("charges a call to its subtask, whatever the attempt, and to its run; another subtask's only to the run", async () => {
      const { a } = await pair();
      const [first, retry]: AgentRef[] = [1, 2].map((attempt) => ({ runId: 'r1', subtaskId: 'api', attempt }));
      await a.charge(first!, { tokens: 1000, usd: 0.25 });
      await a.charge(retry!, { tokens: 500, usd: 0.5 });
      await a.charge({ runId: 'r1', subtaskId: 'docs' }, { tokens: 40, usd: null });
      await a.charge({ runId: 'r2', subtaskId: 'api' }, { tokens: 7, usd: 1 });

      expect(await a.spent({ runId: 'r1', subtaskId: 'api' })).toEqual({
        agent: { tokens: 1500, usd: 0.75, unpricedCalls: 0 },
        run: { tokens: 1540, usd: 0.75, unpricedCalls: 1 },
      });
      expect((await a.spent({ runId: 'r1', subtaskId: 'docs' })).agent).toEqual({
        tokens: 40,
        usd: 0,
        unpricedCalls: 1,
      });
      expect((await a.spent({ runId: 'r2', subtaskId: 'other' })).run).toEqual({ tokens: 7, usd: 1, unpricedCalls: 0 });
    });

    it('adds every one of many charges made at once, from two views of it', async () => {
      const { a, b } = await pair();
      await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          (n % 2 === 0 ? a : b).charge(
            { runId: 'busy', subtaskId: n % 4 < 2 ? 'one' : 'two' },
            { tokens: 10, usd: n % 5 === 0 ? null : 0.01 },
          ),
        ),
      );
      const seen = await b.spent({ runId: 'busy', subtaskId: 'one' });
      expect(seen.run).toMatchObject({ tokens: 400, unpricedCalls: 8 });
      expect(seen.run.usd).toBeCloseTo(0.32, 10);
      expect(seen.agent.tokens).toBe(200);
      expect(await a.spent({ runId: 'busy', subtaskId: 'two' })).toEqual(
        expect.objectContaining({ agent: expect.objectContaining({ tokens: 200 }) }),
      );
    });
  });
}
