import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { DEMO_TASK, demoPlannerReplies } from '../../demo/demo-task.js';
import { createRepository } from '../../demo/sample-repo.js';
import { createLlm, createWorkspace } from '../../main.js';
import { planTask } from '../../plan/planner.js';
import { startScriptedServer, type ScriptedServer } from '../../scripted-model/server.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderPlan } from '../render-plan.js';

/** `fanout demo`: builds a throwaway sample repository and plans a task on it. */
export async function demoCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { keep: { type: 'boolean', default: false } } });
  const dir = await mkdtemp(join(tmpdir(), 'fanout-demo-'));
  let server: ScriptedServer | undefined;
  try {
    await createRepository(dir);
    output.out(`Sample repository: ${dir}`);
    let llm;
    if (env.OPENAI_API_KEY) {
      llm = createLlm(env);
      output.out(`Model: ${llm.model} at ${llm.endpoint}`);
    } else {
      server = await startScriptedServer({ script: demoPlannerReplies() });
      llm = createLlm(env, { baseUrl: server.baseUrl, apiKey: 'scripted', model: 'scripted-model' });
      output.out('No OPENAI_API_KEY is set: using a SCRIPTED model (canned answers, not a real LLM). Set OPENAI_API_KEY to use a real one.');
    }
    output.out(`Task: ${DEMO_TASK}\n`);
    const workspace = createWorkspace();
    const head = await workspace.resolveCommit(dir, 'HEAD');
    const result = await planTask({ llm, task: DEMO_TASK, files: await workspace.listFiles(dir, head) });
    if (result.attempts > 1) {
      output.out(`The first plan had overlapping write scopes; Fanout named the overlap and the planner fixed it (${result.attempts} planner calls).\n`);
    }
    output.out(renderPlan(result));
    return EXIT_OK;
  } finally {
    await server?.close();
    if (values.keep) output.out(`\nKept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}
