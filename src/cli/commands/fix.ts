import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { createLlm, createStore } from '../../main.js';
import { requestFix } from '../../orchestrate/fix-requests.js';
import { UsageError } from '../errors.js';
import type { Output } from '../output.js';
import { runPipeline } from './run.js';

export const FIX_USAGE = 'fanout fix <run-id> <subtask> ["instructions"] [--json]';

/**
 * `fanout fix <run-id> <subtask> "instructions"`: a review from the terminal. The subtask's agent
 * works again on its pull request's head with the instructions, inside its write scope; the fix
 * is committed to the same pull request, validated again, and the run continues to the merge.
 */
export async function fixCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const [runId, subtaskId, ...words] = positionals;
  if (!runId || !subtaskId)
    throw new UsageError(
      `a run id and a subtask are required.\nusage: ${FIX_USAGE} (\`fanout status <run-id>\` lists the subtasks)`,
    );
  const store = createStore(env);
  let run;
  try {
    run = await store.getRun(runId);
    if (!run) throw new UsageError(`no run "${runId}"; \`fanout status\` lists the runs.`);
    const refusal = await requestFix(store, run, subtaskId, {
      kind: 'command',
      by: userInfo().username,
      instructions: words.join(' '),
    });
    if (refusal) throw new UsageError(refusal.replaceAll('`', ''));
  } finally {
    await store.close();
  }
  const llm = () => createLlm(env, run.config.model ? { model: run.config.model } : {});
  return runPipeline({ env, repoDir: run.repo, llm, output, json: values.json, resume: { runId, retryFailed: false } });
}
