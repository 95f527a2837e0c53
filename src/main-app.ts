import { join } from 'node:path';
import type { Probot } from 'probot';
import { GitHubForge } from './adapters/forge/github/github-forge.js';
import { ensureLocalClone } from './adapters/forge/github/local-clone.js';
import { installationTokenSource, type GitHubOctokit, type TokenSource } from './adapters/forge/github/token-source.js';
import { redactingForge } from './adapters/forge/redacting-forge.js';
import { KeyedQueue } from './adapters/file-lock.js';
import { jsonFileStorage } from './adapters/json-file.js';
import { createApp } from './app/create-app.js';
import type { Env } from './config/env.js';
import type { RepoConfig } from './config/repo-config.js';
import type { GitHubTarget } from './domain/command.js';
import type { SecretRedactor } from './domain/redactor.js';
import {
  createCommandRunner,
  createEnvironmentPreparers,
  createFailpoint,
  createLlm,
  createRedactor,
  createStore,
  createWorkspace,
  stateDirectory,
} from './main.js';
import { AppQueue } from './orchestrate/github/app-queue.js';
import type { RepositoryPipelines } from './orchestrate/github/repository-pipelines.js';
import { RunExecutor } from './orchestrate/github/run-executor.js';
import { BaselineCache } from './orchestrate/baseline.js';
import { ProbeCache } from './orchestrate/probe-cache.js';
import type { CoordStore } from './ports/coord-store.js';
import type { Llm } from './ports/llm.js';

/** The App's parts, wired: the Probot app function and the background work behind it. */
export interface FanoutApp {
  appFn: (app: Probot) => void;
  queue: AppQueue;
  executor: RunExecutor;
  store: CoordStore;
  redactor: SecretRedactor;
}

export interface FanoutAppOptions {
  probot: Probot;
  appId: number;
  appSlug?: string;
  /** The model; by default from the environment (a repository's `model:` picks another name). */
  llm?: (model: string | undefined) => Llm;
  /** How often at most a status comment is edited (GitHub spaces comment writes seconds apart). */
  statusDebounceMs?: number;
  log: (message: string, error?: unknown) => void;
}

/**
 * Composition root of the GitHub App: one store, one command runner and one redactor for the
 * process; per repository, a GitHubForge on the installation's Octokit and Fanout's clone under
 * `<state>/repos/<host>/<owner>/<repo>`. Installation tokens are added to the redactor as they come.
 */
export function createFanoutApp(env: Env, options: FanoutAppOptions): FanoutApp {
  const redactor = createRedactor(env);
  const store = createStore(env, redactor);
  const { runner, sandbox } = createCommandRunner(env);
  const workspace = createWorkspace(runner);
  const environments = createEnvironmentPreparers(env, runner, workspace, (text) => redactor.text(text));
  const stateDir = stateDirectory(env);
  const probes = new ProbeCache(jsonFileStorage(join(stateDir, 'probe-cache.json')));
  const baselines = new BaselineCache(jsonFileStorage(join(stateDir, 'baseline-cache.json')));
  const tokens = new Map<number, TokenSource>();
  const merges = new KeyedQueue();
  const failpoint = createFailpoint(env);
  const llmFor = options.llm ?? ((model: string | undefined) => createLlm(env, model ? { model } : {}));

  const pipelines: RepositoryPipelines = {
    async open(target: GitHubTarget, openOptions: { signal?: AbortSignal; config?: RepoConfig } = {}) {
      const octokit = (await options.probot.auth(target.installationId)) as GitHubOctokit;
      let source = tokens.get(target.installationId);
      if (!source) {
        source = installationTokenSource(octokit, target.installationId, (token) => redactor.add(token));
        tokens.set(target.installationId, source);
      }
      const cloneDir = join(stateDir, 'repos', new URL(target.cloneUrl).host, target.owner, target.repo);
      await ensureLocalClone(cloneDir);
      const forge = new GitHubForge({
        octokit,
        repository: { owner: target.owner, repo: target.repo },
        cloneDir,
        remoteUrl: target.cloneUrl,
        tokens: source,
        ...(openOptions.config ? { mergeMethod: openOptions.config.mergeMethod } : {}),
      });
      const repository = `${target.owner}/${target.repo}`.toLowerCase();
      return {
        cloneDir,
        deps: {
          llm: llmFor(openOptions.config?.model),
          workspace,
          runner,
          sandbox,
          store,
          forge: redactingForge(forge, redactor),
          probes,
          baselines,
          prepareWorktree: (worktree, config, context) => environments.prepare(worktree, config, context),
          worktreeRoot: env.FANOUT_WORKTREE_DIR ?? join(stateDir, 'worktrees'),
          mergeExclusively: (work) => merges.run(repository, () => work(async () => undefined)),
          redact: (text) => redactor.text(text),
          ...(failpoint ? { failpoint } : {}),
          ...(openOptions.signal ? { signal: openOptions.signal } : {}),
        },
      };
    },
  };
  const executor = new RunExecutor({
    store,
    pipelines,
    statusDebounceMs: options.statusDebounceMs ?? 3_000,
    log: options.log,
  });
  const queue = new AppQueue({ store, pipelines, executor, log: options.log });
  const appFn = createApp({
    store,
    queue,
    appId: options.appId,
    ...(options.appSlug ? { appSlug: options.appSlug } : {}),
  });
  return { appFn, queue, executor, store, redactor };
}
