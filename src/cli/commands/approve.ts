import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { LocalForge } from '../../adapters/forge/local-forge.js';
import { createStore, stateDirectory } from '../../main.js';
import { approveSubtask } from '../../orchestrate/approve.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { UsageError } from '../errors.js';

/** `fanout approve <run-id> <subtask>`: a local review for `approval: manual`. */
export async function approveCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [runId, subtaskId] = positionals;
  if (!runId || !subtaskId) throw new UsageError('usage: fanout approve <run-id> <subtask-id>');
  const store = createStore(env);
  try {
    const run = await store.getRun(runId);
    if (!run) throw new UsageError(`no run "${runId}".`);
    const forge = new LocalForge(run.repo, stateDirectory(env));
    let head = '';
    await approveSubtask({ store }, runId, subtaskId, async (prNumber) => {
      // The review records the head it approves: a later commit on the branch needs approving again.
      head = (await forge.getPullRequest(prNumber)).headSha;
      await forge.recordReview(prNumber, { by: userInfo().username, state: 'approved', headSha: head });
    });
    output.out(`Approved ${subtaskId} at ${head.slice(0, 8)}. Merge it with: fanout resume ${runId}`);
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
