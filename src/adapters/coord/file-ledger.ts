import { join } from 'node:path';
import { FanoutError } from '../../domain/errors.js';
import { NO_SPEND, type Ledger, type Spend, type SpendCharge, type SpendRef } from '../../ports/ledger.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { makePrivateDirectory, readJsonFile, writeJsonFile } from '../json-file.js';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** One run's spending on disk. */
interface SpendFile {
  run: Spend;
  /** By subtask id. */
  agents: Record<string, Spend>;
}

/**
 * The Ledger on files, beside the file store: `<state>/spend/<run>.json` (0600), replaced
 * atomically under a lock file (and an in-process queue), so charges from this process and any
 * other on the machine (`fanout fix` while a run goes on) add up; readers need no lock. What a run
 * spent outlives the process: a resume or a later fix attempt is held to the same budgets.
 */
export class FileLedger implements Ledger {
  private readonly queue = new KeyedQueue();

  constructor(private readonly stateDir: string) {}

  async charge(ref: SpendRef, charge: SpendCharge): Promise<void> {
    const path = this.path(ref.runId);
    await makePrivateDirectory(join(this.stateDir, 'spend'));
    await this.queue.run(path, () =>
      withFileLock(`${path}.lock`, async () => {
        const current = (await readJsonFile<SpendFile>(path)) ?? { run: { ...NO_SPEND }, agents: {} };
        await writeJsonFile(path, {
          run: add(current.run, charge),
          agents: { ...current.agents, [ref.subtaskId]: add(current.agents[ref.subtaskId], charge) },
        } satisfies SpendFile);
      }),
    );
  }

  async spent(ref: SpendRef): Promise<{ agent: Spend; run: Spend }> {
    const current = await readJsonFile<SpendFile>(this.path(ref.runId));
    const agent = current && Object.hasOwn(current.agents, ref.subtaskId) ? current.agents[ref.subtaskId] : undefined;
    return { agent: { ...(agent ?? NO_SPEND) }, run: { ...(current?.run ?? NO_SPEND) } };
  }

  async close(): Promise<void> {}

  private path(runId: string): string {
    if (!SAFE_ID.test(runId))
      throw new FanoutError('bad-id', `Invalid run id "${runId}": use letters, digits, ".", "_" and "-".`);
    return join(this.stateDir, 'spend', `${runId}.json`);
  }
}

function add(spend: Spend | undefined, charge: SpendCharge): Spend {
  const before = spend ?? NO_SPEND;
  return {
    tokens: before.tokens + charge.tokens,
    usd: before.usd + (charge.usd ?? 0),
    unpricedCalls: before.unpricedCalls + (charge.usd === null ? 1 : 0),
  };
}
