import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Env } from '../../config/env.js';
import { DEMO_RUN_TASK, demoModel } from '../../demo/demo-model.js';
import { createRepository } from '../../demo/sample-repo.js';
import { createLlm } from '../../main.js';
import type { Llm } from '../../ports/llm.js';
import { startScriptedServer, type ScriptedServer } from '../../scripted-model/server.js';
import { parseAgentFlag } from '../agent-flag.js';
import { EXIT_BAD_INPUT, EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { loadRepoConfig, runPipeline } from './run.js';

const exec = promisify(execFile);

/** `fanout demo`: a throwaway sample repository and the full pipeline on it. */
export async function demoCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      agent: { type: 'string' },
    },
  });
  const agent = parseAgentFlag(values.agent);
  const dir = await mkdtemp(join(tmpdir(), 'fanout-demo-'));
  const repo = join(dir, 'greeter');
  let server: ScriptedServer | undefined;
  try {
    await createRepository(repo);
    const say = (text: string) => {
      if (!values.json) output.out(text);
    };
    say(`Sample repository: ${repo}`);
    let modelEnv: Env = env;
    if (!env.OPENAI_API_KEY) {
      server = await startScriptedServer({ script: demoModel });
      // The planner and the gateway the agents go through both reach the scripted model.
      modelEnv = {
        ...env,
        OPENAI_BASE_URL: server.baseUrl,
        OPENAI_API_KEY: 'scripted',
        FANOUT_MODEL: 'scripted-model',
      };
    }
    const llm: Llm = createLlm(modelEnv);
    if (!server) say(`Model: ${llm.model} at ${llm.endpoint}`);
    else {
      say(
        'No OPENAI_API_KEY is set: using a SCRIPTED model (canned answers, not a real LLM). Set OPENAI_API_KEY to use a real one.',
      );
    }
    say(`Task: ${DEMO_RUN_TASK}\n`);
    // The demo keeps its state beside the throwaway repository, not in ~/.fanout.
    const demoEnv: Env = { ...modelEnv, FANOUT_STATE_DIR: join(dir, 'state') };
    const outcome = await runPipeline({
      env: demoEnv,
      repoDir: repo,
      llm: () => llm,
      output,
      json: values.json,
      resumable: values.keep,
      start: { task: DEMO_RUN_TASK, config: await loadRepoConfig(repo), ...(agent ? { agent } : {}) },
      ...(server ? { trustedCommands: true } : {}),
    });
    if (!values.json) {
      const { stdout } = await exec('git', ['log', '--graph', '--format=%h %s', 'main'], { cwd: repo });
      output.out(`\nHistory of main (pull requests merged one after another):\n${stdout.trimEnd()}`);
    }
    // The demo shows a failing agent on purpose: it succeeded when the run reached its report.
    return outcome === EXIT_BAD_INPUT ? outcome : EXIT_OK;
  } finally {
    await server?.close();
    // With --json, stdout carries the JSON report alone.
    const kept = `\nKept ${dir} (repository and state; FANOUT_STATE_DIR=${join(dir, 'state')} for status and logs)`;
    if (values.keep && values.json) output.err(kept);
    else if (values.keep) output.out(kept);
    else {
      await rm(dir, { recursive: true, force: true });
      if (!values.json)
        output.out('\nThe demo repository and its state are deleted now; `fanout demo --keep` keeps them to inspect.');
    }
  }
}
