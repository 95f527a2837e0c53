import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { createLlm, createLocalPipeline } from '../../main.js';
import { approveSubtask } from '../../orchestrate/approve.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { UsageError } from '../run-command.js';

/** `fanout approve <run-id> <subtask>`: a local review for `approval: manual`. */
export async function approveCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [runId, subtaskId] = positionals;
  if (!runId || !subtaskId) throw new UsageError('usage: fanout approve <run-id> <subtask-id>');
  const lookup = createLocalPipeline(env, '.', createLlm(env, { apiKey: 'unused' }));
  const run = await lookup.store.getRun(runId);
  if (!run) throw new UsageError(`no run "${runId}".`);
  const deps = createLocalPipeline(env, run.repo, createLlm(env, { apiKey: 'unused' }));
  await approveSubtask(deps, runId, subtaskId, userInfo().username);
  output.out(`Approved ${subtaskId}. Merge it with: fanout resume ${runId}`);
  await deps.store.close();
  return EXIT_OK;
}
