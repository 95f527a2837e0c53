import { join } from 'node:path';
import { Probot } from 'probot';
import { FanoutOctokit, fanoutOctokitClass } from './adapters/forge/github/octokit-class.js';
import { GitHubForge } from './adapters/forge/github/github-forge.js';
import { ensureLocalClone } from './adapters/forge/github/local-clone.js';
import { installationTokenSource, type GitHubOctokit, type TokenSource } from './adapters/forge/github/token-source.js';
import { redactingForge } from './adapters/forge/redacting-forge.js';
import { KeyedQueue } from './adapters/file-lock.js';
import { jsonFileStorage } from './adapters/json-file.js';
import { createApp } from './app/create-app.js';
import type { Env } from './config/env.js';
import type { RepoConfig } from './config/repo-config.js';
import type { GitHubTarget, PullRequestEvent } from './domain/command.js';
import { endpointHider } from './domain/endpoint-hider.js';
import type { SecretRedactor } from './domain/redactor.js';
import {
  createAgentBackends,
  createCommandRunner,
  createEnvironmentPreparers,
  createFailpoint,
  createLlm,
  createModelGrants,
  createRedactor,
  createStore,
  createWorkspace,
  stateDirectory,
} from './main.js';
import { createDistributed, exclusiveMerges, queuedAgents, type Distributed } from './main-distributed.js';
import { AppQueue } from './orchestrate/github/app-queue.js';
import { QueuedIntake } from './orchestrate/github/queued-intake.js';
import { withThisClone } from './orchestrate/github/this-clone.js';
import type { RepositoryPipelines } from './orchestrate/github/repository-pipelines.js';
import { RunExecutor } from './orchestrate/github/run-executor.js';
import { BaselineCache } from './orchestrate/baseline.js';
import { ProbeCache } from './orchestrate/probe-cache.js';
import type { CoordStore } from './ports/coord-store.js';
import type { Llm } from './ports/llm.js';
import type { ModelGrants } from './ports/model-grants.js';

/** Where Probot sends API calls: github.com, or a GitHub Enterprise Server from GHE_HOST/GHE_PROTOCOL. */
export function gitHubApiUrl(env: Pick<Env, 'GHE_HOST' | 'GHE_PROTOCOL'>): string | undefined {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL}://${env.GHE_HOST}/api/v3` : undefined;
}

/**
 * The App's Probot: installation tokens and REST calls through Fanout's Octokit (throttled unless
 * FANOUT_GITHUB_THROTTLE=off), on GitHub Enterprise when GHE_HOST is set; with `secret`, it also
 * checks webhooks.
 */
export function githubProbot(env: Env, appId: number, privateKey: string, secret?: string): Probot {
  const baseUrl = gitHubApiUrl(env);
  return new Probot({
    appId,
    privateKey,
    ...(secret ? { secret } : {}),
    Octokit: env.FANOUT_GITHUB_THROTTLE === 'off' ? fanoutOctokitClass({ enabled: false }) : FanoutOctokit,
    logLevel: env.LOG_LEVEL,
    ...(baseUrl ? { baseUrl } : {}),
  });
}

/** The App's intake: where accepted work goes, how a restart takes up what was left, and when it is idle. */
export interface AppIntake {
  enqueueCommand(id: string): void | Promise<void>;
  enqueueEvent(target: GitHubTarget, event: PullRequestEvent): void | Promise<void>;
  recover(): Promise<void>;
  idle(): Promise<void>;
}

/** The App's parts, wired: the Probot app function and the background work behind it. */
export interface FanoutApp {
  appFn: (app: Probot) => void;
  queue: AppIntake;
  store: CoordStore;
  redactor: SecretRedactor;
  /** Closes what the App opened (the store; with several machines, the queues and locks too). */
  close(): Promise<void>;
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
 * What the App's repositories share in one process: the store, one command runner, one workspace,
 * one redactor (installation tokens are added as they come), and the caches.
 */
export interface GitHubShared {
  store: CoordStore;
  redactor: SecretRedactor;
  /** Several machines: agents through the queue, merges under each repository's lock. */
  distributed?: Distributed;
  log: (message: string, error?: unknown) => void;
  llm?: (model: string | undefined) => Llm;
  /** The process's model gateway (one for every repository). */
  modelGrants: ModelGrants;
}

/**
 * Per repository, a GitHubForge on the installation's Octokit and Fanout's clone under
 * `<state>/repos/<host>/<owner>/<repo>`, with the pipeline's other ports shared.
 */
export function createGitHubPipelines(env: Env, probot: Probot, shared: GitHubShared): RepositoryPipelines {
  const { store, redactor } = shared;
  const { runner, sandbox, commandLimits } = createCommandRunner(env);
  const workspace = createWorkspace(runner);
  const environments = createEnvironmentPreparers(env, runner, workspace, (text) => redactor.text(text));
  const stateDir = stateDirectory(env);
  const probes = new ProbeCache(jsonFileStorage(join(stateDir, 'probe-cache.json')));
  const baselines = new BaselineCache(jsonFileStorage(join(stateDir, 'baseline-cache.json')));
  const tokens = new Map<number, TokenSource>();
  const merges = new KeyedQueue();
  const failpoint = createFailpoint(env);
  const llmFor = shared.llm ?? ((model: string | undefined) => createLlm(env, model ? { model } : {}));
  // What GitHub shows carries no secret and not the model endpoint's address (the log keeps it).
  const hideEndpoint = endpointHider(env.OPENAI_BASE_URL);
  const published = { text: (text: string) => hideEndpoint(redactor.text(text)) };
  return {
    async open(target: GitHubTarget, openOptions: { signal?: AbortSignal; config?: RepoConfig } = {}) {
      const octokit = (await probot.auth(target.installationId)) as GitHubOctokit;
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
      const repository = `github:${new URL(target.htmlUrl).host}/${target.owner}/${target.repo}`.toLowerCase();
      const distributed = shared.distributed;
      const llm = llmFor(openOptions.config?.model);
      return {
        cloneDir,
        deps: {
          llm,
          agents: createAgentBackends(llm, runner, env),
          modelGrants: shared.modelGrants,
          workspace,
          runner,
          sandbox,
          commandLimits,
          // On several machines the run recorded another worker's clone: here, it is this one.
          store: shared.distributed ? withThisClone(store, target, cloneDir) : store,
          forge: redactingForge(forge, published),
          probes,
          baselines,
          prepareWorktree: (worktree, config, context) => environments.prepare(worktree, config, context),
          worktreeRoot: env.FANOUT_WORKTREE_DIR ?? join(stateDir, 'worktrees'),
          ...(distributed
            ? { ...queuedAgents(distributed), ...exclusiveMerges(distributed, repository, (line) => shared.log(line)) }
            : { mergeExclusively: (work) => merges.run(repository, () => work(async () => undefined)) }),
          redact: (text) => redactor.text(text),
          ...(failpoint ? { failpoint } : {}),
          ...(openOptions.signal ? { signal: openOptions.signal } : {}),
        },
      };
    },
  };
}

/**
 * Composition root of the GitHub App. In one process (no REDIS_URL) the intake queues work in
 * memory and runs it here; with REDIS_URL it queues jobs on Redis and `fanout worker` processes,
 * on any machine, run everything else.
 */
export function createFanoutApp(env: Env, options: FanoutAppOptions): FanoutApp {
  const redactor = createRedactor(env);
  const appDeps = { appId: options.appId, ...(options.appSlug ? { appSlug: options.appSlug } : {}) };
  if (env.REDIS_URL) {
    const distributed = createDistributed(env);
    const queue = new QueuedIntake(distributed.jobs, distributed.store, distributed.locks);
    return {
      appFn: createApp({ store: distributed.store, queue, ...appDeps }),
      queue,
      store: distributed.store,
      redactor,
      close: () => distributed.close(),
    };
  }
  const store = createStore(env, redactor);
  const modelGrants = createModelGrants(env, redactor);
  const pipelines = createGitHubPipelines(env, options.probot, {
    store,
    redactor,
    modelGrants,
    log: options.log,
    ...(options.llm ? { llm: options.llm } : {}),
  });
  const executor = new RunExecutor({
    store,
    pipelines,
    statusDebounceMs: options.statusDebounceMs ?? 3_000,
    log: options.log,
  });
  const queue = new AppQueue({ store, pipelines, executor, log: options.log });
  return {
    appFn: createApp({ store, queue, ...appDeps }),
    queue,
    store,
    redactor,
    close: async () => {
      executor.close();
      await modelGrants.close();
      await store.close();
    },
  };
}
