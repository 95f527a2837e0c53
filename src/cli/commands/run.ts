import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { parseRepoConfig, REPO_CONFIG_PATH, type RepoConfig } from '../../config/repo-config.js';
import { createLlm, createLocalPipeline, createStore, createWorkspace } from '../../main.js';
import { executeRun, prepareResume } from '../../orchestrate/execute-run.js';
import { startRun } from '../../orchestrate/start-run.js';
import { LLM_PROVIDER_NAMES, type Llm } from '../../ports/llm.js';
import { renderRunReport } from '../../report/render-report.js';
import { runHeadline } from '../../report/run-headline.js';
import type { RunReport } from '../../report/run-report.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { showProgress } from '../progress-display.js';
import { runQueued, type RunRequest } from './run-queued.js';
import { parseAgentFlag } from '../agent-flag.js';
import { UsageError } from '../errors.js';
import { repositoryPath } from '../repo-path.js';

const SANDBOX_NONE_NOTE =
  "Sandbox: none. Agent commands can read and write outside their worktree (they cannot see Fanout's secrets or outlive their command). Install bubblewrap to confine them.";
const SANDBOX_NONE_AS_ROOT_NOTE =
  'Sandbox: none, as root. Agent commands can rewrite system files (/usr/local/bin) and other checkouts on this machine. Run Fanout as an unprivileged user, or install bubblewrap, to confine them.';

export const RUN_USAGE = 'fanout run [--repo DIR] [--base BRANCH] [--agent NAME] [--json] [--hints TEXT] "task"';

/** `fanout run`: the whole pipeline against a local repository. */
export async function runCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      base: { type: 'string' },
      json: { type: 'boolean', default: false },
      hints: { type: 'string' },
      agent: { type: 'string' },
    },
  });
  const agent = parseAgentFlag(values.agent);
  const task = positionals.join(' ').trim();
  if (!task) throw new UsageError(`a task is required.\nusage: ${RUN_USAGE}`);
  const repoDir = repositoryPath(values.repo);
  const config = await loadRepoConfig(repoDir, values.base);
  const start = {
    task,
    config,
    ...(values.base ? { baseBranch: values.base } : {}),
    ...(values.hints ? { hints: values.hints } : {}),
    ...(agent ? { agent } : {}),
  };
  const llm = () => createLlm(env, config.model ? { model: config.model } : {});
  return runPipeline({ env, repoDir, llm, output, json: values.json, start });
}

/** `fanout resume <run-id>`: continues an interrupted run without redoing finished subtasks. */
export async function resumeCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'retry-failed': { type: 'boolean', default: false } },
  });
  const runId = positionals[0];
  if (!runId)
    throw new UsageError('a run id is required: fanout resume <run-id> [--retry-failed] (`fanout status` lists runs)');
  const lookup = createStore(env);
  const run = await lookup.getRun(runId);
  await lookup.close();
  if (!run) throw new UsageError(`no run "${runId}"; \`fanout status\` lists the runs.`);
  const resume = { runId, retryFailed: values['retry-failed'] };
  const llm = () => createLlm(env, run.config.model ? { model: run.config.model } : {});
  return runPipeline({
    env,
    repoDir: run.repo,
    llm,
    output,
    json: values.json,
    resume,
  });
}

/** Reads `.github/fanout.yml` at the tip of the base branch (or HEAD). */
export async function loadRepoConfig(repoDir: string, baseBranch?: string): Promise<RepoConfig> {
  const workspace = createWorkspace();
  const commit = await workspace
    .resolveCommit(repoDir, baseBranch ? `refs/heads/${baseBranch}` : 'HEAD')
    .catch((error: unknown) => {
      if (baseBranch === undefined) throw error;
      throw new UsageError(`--base ${baseBranch}: ${repoDir} has no branch "${baseBranch}".`);
    });
  return parseRepoConfig(await workspace.readFileAt(repoDir, commit, REPO_CONFIG_PATH));
}

/** Starts or resumes a run with live progress, prints the report, and maps the outcome to an exit code. */
export async function runPipeline(
  input: RunRequest & {
    /** The model client, made only when the agents run in this process (on Redis, the workers have theirs). */
    llm: () => Llm;
    /** The model is Fanout's own scripted one (the demo): without bubblewrap, run its commands unconfined rather than refuse. */
    trustedCommands?: boolean;
    /** False for a throwaway run (the demo): Ctrl-C does not promise a resume. */
    resumable?: boolean;
  },
): Promise<number> {
  // Several machines: workers do the work and this process follows it (not the demo, whose
  // scripted model lives here).
  if (input.env.REDIS_URL && input.trustedCommands !== true) return runQueued(input);
  const abort = new AbortController();
  const onSignal = () => {
    input.output.err(
      input.resumable === false
        ? '\nInterrupted: stopping agents and cleaning up.'
        : '\nInterrupted: stopping agents; `fanout resume` continues the run.',
    );
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  const deps = createLocalPipeline(input.env, input.repoDir, input.llm(), {
    signal: abort.signal,
    ...(input.trustedCommands ? { trustedCommands: true } : {}),
  });
  try {
    // A backend that cannot run here (its CLI missing, or of a version Fanout has not tested)
    // stops a new run before it is recorded or planned, rather than failing every subtask.
    if (input.start) await deps.agents(input.start.agent ?? input.start.config.agent.backend);
    const run = input.resume
      ? await prepareResume(deps, input.resume.runId, { retryFailed: input.resume.retryFailed })
      : await startRun(deps, { repoDir: input.repoDir, ...input.start! });
    if (!input.json) {
      input.output.out(runHeadline(run, `${deps.llm.model} (${LLM_PROVIDER_NAMES[deps.llm.provider]})`));
      if (deps.sandbox === 'none') input.output.out(SANDBOX_NONE_NOTE);
      if (deps.sandbox === 'none-as-root') input.output.out(SANDBOX_NONE_AS_ROOT_NOTE);
    }
    const stop = input.json
      ? async () => undefined
      : showProgress(deps.store, run.id, input.output, process.stdout.isTTY === true);
    let report: RunReport;
    try {
      report = await executeRun(deps, run.id);
    } finally {
      await stop();
    }
    input.output.out(
      input.json
        ? JSON.stringify(report, null, 2)
        : `\n${renderRunReport(report, { resumable: input.resumable !== false })}`,
    );
    return report.state === 'succeeded' ? EXIT_OK : EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    await deps.close();
    await deps.store.close();
  }
}
