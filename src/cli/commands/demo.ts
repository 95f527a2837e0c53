import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Env } from '../../config/env.js';
import { startCodexDemoEndpoint } from '../../demo/codex-demo-model.js';
import { demoClaudeModel } from '../../demo/demo-claude-model.js';
import { DEMO_RUN_TASK, demoModel } from '../../demo/demo-model.js';
import { createRepository } from '../../demo/sample-repo.js';
import { createLlm } from '../../main.js';
import type { Llm } from '../../ports/llm.js';
import { startScriptedAnthropicServer } from '../../scripted-model/anthropic-server.js';
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
  const chosen = parseAgentFlag(values.agent);
  const agent = chosen ?? 'builtin';
  const dir = await mkdtemp(join(tmpdir(), 'fanout-demo-'));
  const repo = join(dir, 'greeter');
  let server: ScriptedServer | undefined;
  let codex: { baseUrl: string; close(): Promise<void> } | undefined;
  let claude: { close(): Promise<void> } | undefined;
  try {
    await createRepository(repo);
    const say = (text: string) => {
      if (!values.json) output.out(text);
    };
    say(`Sample repository: ${repo}`);
    let modelEnv: Env = env;
    // Scripted Claude Code sessions know only the scripted plan: the planner is scripted with them.
    const scriptedClaude = agent === 'claude-code' && !env.ANTHROPIC_API_KEY;
    if (scriptedClaude) {
      const anthropic = await startScriptedAnthropicServer({ script: demoClaudeModel });
      claude = anthropic;
      modelEnv = { ...modelEnv, ANTHROPIC_BASE_URL: anthropic.baseUrl, ANTHROPIC_API_KEY: 'scripted' };
      say(
        'No ANTHROPIC_API_KEY is set: Claude Code talks to a SCRIPTED Anthropic model (canned answers, not a real LLM). Set ANTHROPIC_API_KEY to use a real one.',
      );
    }
    if (!env.OPENAI_API_KEY || scriptedClaude) {
      server = await startScriptedServer({ script: demoModel });
      // Codex speaks the Responses API: a scripted one beside the planner's, on the same base URL.
      if (agent === 'codex') codex = await startCodexDemoEndpoint(new URL(server.baseUrl).origin);
      // The planner and the gateway the agents go through both reach the scripted model.
      modelEnv = {
        ...modelEnv,
        OPENAI_BASE_URL: codex?.baseUrl ?? server.baseUrl,
        OPENAI_API_KEY: 'scripted',
        FANOUT_MODEL: 'scripted-model',
      };
    }
    const llm: Llm = createLlm(modelEnv);
    if (!server) say(`Model: ${llm.model} at ${llm.endpoint}`);
    else if (env.OPENAI_API_KEY)
      say('The planner is scripted too: the scripted Claude Code sessions know only its plan.');
    else {
      say(
        'No OPENAI_API_KEY is set: using a SCRIPTED model (canned answers, not a real LLM). Set OPENAI_API_KEY to use a real one.',
      );
    }
    if (agent !== 'builtin') say(`Agent: ${agent}`);
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
      start: { task: DEMO_RUN_TASK, config: await loadRepoConfig(repo), ...(chosen ? { agent: chosen } : {}) },
      ...(server ? { trustedCommands: true } : {}),
    });
    if (!values.json) {
      const { stdout } = await exec('git', ['log', '--graph', '--format=%h %s', 'main'], { cwd: repo });
      output.out(`\nHistory of main (pull requests merged one after another):\n${stdout.trimEnd()}`);
    }
    // The demo shows a failing agent on purpose: it succeeded when the run reached its report.
    return outcome === EXIT_BAD_INPUT ? outcome : EXIT_OK;
  } finally {
    await codex?.close();
    await server?.close();
    await claude?.close();
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
