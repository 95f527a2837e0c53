import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { FileLedger } from '../../src/adapters/coord/file-ledger.js';
import { RedisLedger } from '../../src/adapters/coord/redis-ledger.js';
import { MemoryLedger } from '../../src/adapters/gateway/memory-ledger.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { tempDir } from '../support/temp-dir.js';
import { ledgerContract } from './ledger.contract.js';

const run = promisify(execFile);

ledgerContract('memory (test double)', async () => {
  const ledger = new MemoryLedger();
  return { ledger, peer: async () => ledger };
});
ledgerContract('files', async () => {
  const dir = await tempDir('fanout-ledger-');
  return { ledger: new FileLedger(dir), peer: async () => new FileLedger(dir) };
});
describeWithRedis('Redis (real server)', () => {
  ledgerContract('redis', async () => {
    const prefix = testPrefix();
    return {
      ledger: new RedisLedger(TEST_REDIS_URL, prefix),
      peer: async () => new RedisLedger(TEST_REDIS_URL, prefix),
    };
  });

  it('adds every charge made at once by 4 processes', async () => {
    const prefix = testPrefix();
    const module = modulePath('../../src/adapters/coord/redis-ledger.ts');
    await chargeFromProcesses(
      `const { RedisLedger } = await import(${JSON.stringify(module)});
       const ledger = new RedisLedger(${JSON.stringify(TEST_REDIS_URL)}, ${JSON.stringify(prefix)});`,
    );
    const ledger = new RedisLedger(TEST_REDIS_URL, prefix);
    try {
      await expectAllCharged(ledger);
    } finally {
      await ledger.close();
    }
  }, 60_000);
});

it('files: adds every charge made at once by 4 processes', async () => {
  const dir = await tempDir('fanout-ledger-');
  const module = modulePath('../../src/adapters/coord/file-ledger.ts');
  await chargeFromProcesses(
    `const { FileLedger } = await import(${JSON.stringify(module)});
     const ledger = new FileLedger(${JSON.stringify(dir)});`,
  );
  await expectAllCharged(new FileLedger(dir));
}, 60_000);

// Each process charges 25 calls at once, half to each of two subtasks: 100 calls in all.
async function chargeFromProcesses(open: string): Promise<void> {
  const script = `${open}
    await Promise.all(Array.from({ length: 25 }, (_, n) =>
      ledger.charge({ runId: 'shared', subtaskId: n % 2 ? 'a' : 'b' }, { tokens: 3, usd: n % 5 === 0 ? null : 0.001 })));
    await ledger.close();`;
  await Promise.all(
    [0, 1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script])),
  );
}

async function expectAllCharged(ledger: { spent: FileLedger['spent'] }): Promise<void> {
  const spent = await ledger.spent({ runId: 'shared', subtaskId: 'a' });
  expect(spent.run).toMatchObject({ tokens: 300, unpricedCalls: 20 });
  expect(spent.run.usd).toBeCloseTo(0.08, 10);
  expect(spent.agent).toMatchObject({ tokens: 144, unpricedCalls: 8 });
}

function modulePath(relative: string): string {
  return new URL(relative, import.meta.url).pathname;
}
