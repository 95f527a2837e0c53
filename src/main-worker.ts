import { tmpdir } from 'node:os';
import { noneSandbox, runsAsRoot } from './adapters/command/none-as-root.js';
import { sandboxSupport } from './adapters/command/sandbox-support.js';
import { runSystemProgram } from './adapters/workspace/git-cli.js';
import type { Env } from './config/env.js';
import { privateKeyFromEnv } from './config/secrets.js';
import { ConfigError } from './domain/errors.js';
import { createGitHubPipelines, githubProbot } from './main-app.js';
import { exclusiveMerges, queuedAgents, repositoryKey, type Distributed } from './main-distributed.js';
import { createLlm, createLocalPipeline, createModelGrants } from './main.js';
import { targetOf } from './orchestrate/github/run-executor.js';
import { fetchRunBase } from './orchestrate/github/this-clone.js';
import type { WorkerDeps } from './orchestrate/jobs/worker.js';
import type { PipelineDeps } from './orchestrate/pipeline-deps.js';
import type { Llm } from './ports/llm.js';

/**
 * A worker's view of the deployment: one pipeline per local repository (and per model), built on
 * first use with the shared store, queued agents and exclusive merges; and, when the worker has
 * the App's credentials (APP_ID, PRIVATE_KEY), GitHub's repositories, commands and events.
 */
export function createWorkerDeps(env: Env, distributed: Distributed, log: WorkerDeps['log']): WorkerDeps {
  const pipelines = new Map<string, PipelineDeps>();
  const models = new Map<string, Llm>();
  const llmFor = (model: string | undefined) => {
    const key = model ?? '';
    let llm = models.get(key);
    if (!llm) {
      llm = createLlm(env, model ? { model } : {});
      models.set(key, llm);
    }
    return llm;
  };
  // One model gateway for every run this worker takes; it ends with the process.
  const modelGrants = createModelGrants(env, distributed.redactor, { ledger: distributed.ledger });
  const privateKey = privateKeyFromEnv(env);
  const github =
    env.APP_ID && privateKey
      ? createGitHubPipelines(env, githubProbot(env, Number(env.APP_ID), privateKey), {
          store: distributed.store,
          redactor: distributed.redactor,
          distributed,
          log,
          llm: llmFor,
          modelGrants,
        })
      : undefined;
  return {
    store: distributed.store,
    jobs: distributed.jobs,
    locks: distributed.locks,
    leaseMs: env.FANOUT_LOCK_TTL_MS,
    log,
    ...(github ? { github: { pipelines: github, statusDebounceMs: 3_000 } } : {}),
    async pipelineFor(run, signal) {
      if (run.origin.kind === 'github') {
        if (!github)
          throw new ConfigError(
            `run ${run.id} is a GitHub run; this worker has no GitHub App credentials (APP_ID, PRIVATE_KEY)`,
          );
        const { deps } = await github.open(targetOf(run), { config: run.config, ...(signal ? { signal } : {}) });
        await fetchRunBase(deps, (await deps.store.getRun(run.id)) ?? run);
        return deps;
      }
      const key = `${repositoryKey(run)}\0${run.config.model ?? ''}`;
      let pipeline = pipelines.get(key);
      if (!pipeline) {
        pipeline = createLocalPipeline(env, run.repo, llmFor(run.config.model), {
          store: distributed.store,
          modelGrants,
          distributed: {
            ...queuedAgents(distributed),
            ...exclusiveMerges(distributed, repositoryKey(run), (message) => log(message)),
          },
        });
        pipelines.set(key, pipeline);
      }
      return signal ? { ...pipeline, signal } : pipeline;
    },
  };
}

/**
 * What a worker checks before it takes a job: git can be started (through the helper process
 * every git command goes through, which this starts), and which sandbox this machine offers
 * (probed once, by blocking child processes), and that `none` is not asked for as root (unless
 * accepted). Done here, neither holds up the first jobs' pickup, nor does a refusal wait for a job.
 * Resolves to git's version; throws a message a maintainer can act on.
 */
export async function workerPreflight(env?: Env): Promise<string> {
  if (env?.FANOUT_SANDBOX === 'none')
    noneSandbox({ asRoot: runsAsRoot(), allowRoot: env.FANOUT_ALLOW_ROOT_NONE, trustedCommands: false });
  sandboxSupport();
  try {
    return (await runSystemProgram('git', ['--version'], { cwd: tmpdir() })).trim();
  } catch (error) {
    throw new Error(
      `git cannot be started on this machine, and agents need it: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
