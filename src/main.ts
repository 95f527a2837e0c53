import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BwrapCommandRunner, defaultHiddenPaths, SYSTEM_PATHS } from './adapters/command/bwrap-runner.js';
import { NamespaceCommandRunner } from './adapters/command/namespace-runner.js';
import { noneSandbox, runsAsRoot } from './adapters/command/none-as-root.js';
import { ownPaths } from './adapters/command/own-paths.js';
import { sandboxSupport, type SandboxSupport } from './adapters/command/sandbox-support.js';
import { toolchainPaths } from './adapters/command/toolchain-paths.js';
import { ProcessCommandRunner } from './adapters/command/process-runner.js';
import { reportingFullDisk } from './adapters/disk-full.js';
import { DiskReserve } from './adapters/disk-reserve.js';
import type { GatewayCallListener } from './adapters/gateway/call-event.js';
import { LazyGatewayGrants } from './adapters/gateway/lazy-gateway-grants.js';
import { CLAUDE_CODE_REQUIREMENT } from './adapters/agent-cli/claude-code-requirement.js';
import { locateCli } from './adapters/agent-cli/locate-cli.js';
import { LimitedCommandRunner, limitsSupport } from './adapters/command/resource-limits.js';
import { KeyedQueue, withFileLock } from './adapters/file-lock.js';
import { PreparationGitCli } from './adapters/workspace/preparation-git.js';
import { EnvironmentPreparers } from './adapters/environment/environment-preparers.js';
import { FileCoordStore } from './adapters/coord/file-store.js';
import { RedisCoordStore } from './adapters/coord/redis-store.js';
import { FileLedger } from './adapters/coord/file-ledger.js';
import { RedisLedger } from './adapters/coord/redis-ledger.js';
import { redactingStore } from './adapters/coord/redacting-store.js';
import { LocalForge } from './adapters/forge/local-forge.js';
import { redactingForge } from './adapters/forge/redacting-forge.js';
import { jsonFileStorage } from './adapters/json-file.js';
import { AnthropicLlm } from './adapters/llm/anthropic-llm.js';
import { OpenAiLlm } from './adapters/llm/openai-llm.js';
import { GitWorkspace } from './adapters/workspace/git-workspace.js';
import { dotEnvFile } from './config/dotenv.js';
import type { Env } from './config/env.js';
import { secretsFromEnv } from './config/secrets.js';
import { ConfigError, SandboxError } from './domain/errors.js';
import { SecretRedactor } from './domain/redactor.js';
import type { Failpoint } from './domain/failpoint.js';
import type { SandboxMode } from './domain/run.js';
import type { CommandRunner } from './ports/command-runner.js';
import type { CoordStore } from './ports/coord-store.js';
import type { Forge } from './ports/forge.js';
import type { Ledger } from './ports/ledger.js';
import type { Llm, LlmProvider } from './ports/llm.js';
import type { AgentBackend, AgentBackends, AgentModelAccess } from './ports/agent-backend.js';
import { BuiltinAgentBackend } from './agent/builtin/builtin-backend.js';
import { claudeCodeSpec } from './agent/claude-code/claude-code-spec.js';
import { CliAgentBackend } from './agent/cli/cli-backend.js';
import { codexSpec } from './agent/codex/codex-spec.js';
import { CODEX_CLI } from './adapters/agent-cli/codex-cli.js';
import type { Workspace } from './ports/workspace.js';
import type { PipelineDeps } from './orchestrate/pipeline-deps.js';
import { BaselineCache } from './orchestrate/baseline.js';
import { ProbeCache } from './orchestrate/probe-cache.js';

const OPENAI_DEFAULT_URL = 'https://api.openai.com/v1';
/** The planner's model when FANOUT_MODEL names none, per provider. */
export const DEFAULT_MODELS: Readonly<Record<LlmProvider, string>> = {
  openai: 'gpt-4.1-mini',
  anthropic: 'claude-sonnet-5-5',
};
// Fanout's package root (this file is in src/ or dist/): hidden from every command.
const INSTALL_DIRECTORY = fileURLToPath(new URL('..', import.meta.url));
const CGROUP_MOUNT = '/sys/fs/cgroup';

/**
 * Which API the planner (and the built-in agent) speaks: OpenAI's when OPENAI_API_KEY is set or
 * OPENAI_BASE_URL points at another server (a local one needs no key); else Anthropic's when
 * ANTHROPIC_API_KEY is set, so a user with only that key plans with Claude.
 */
export function llmProvider(env: Env): LlmProvider {
  if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL !== OPENAI_DEFAULT_URL) return 'openai';
  return env.ANTHROPIC_API_KEY ? 'anthropic' : 'openai';
}

/** Builds the model adapter from validated settings (composition root: the only place adapters are chosen). */
export function createLlm(
  env: Env,
  overrides: { provider?: LlmProvider; baseUrl?: string; apiKey?: string; model?: string } = {},
): Llm {
  const provider = overrides.provider ?? llmProvider(env);
  const bounds = {
    model: overrides.model ?? env.FANOUT_MODEL ?? DEFAULT_MODELS[provider],
    timeoutMs: env.FANOUT_LLM_TIMEOUT_MS,
    maxAnswerBytes: env.FANOUT_LLM_MAX_ANSWER_BYTES,
    idleTimeoutMs: env.FANOUT_LLM_IDLE_TIMEOUT_MS,
    maxRetries: env.FANOUT_LLM_MAX_RETRIES,
    stream: env.FANOUT_LLM_STREAM,
  };
  if (provider === 'anthropic') {
    const apiKey = overrides.apiKey ?? env.ANTHROPIC_API_KEY;
    if (!apiKey) throw new ConfigError('ANTHROPIC_API_KEY is not set.');
    return new AnthropicLlm({ baseUrl: overrides.baseUrl ?? env.ANTHROPIC_BASE_URL, apiKey, ...bounds });
  }
  const baseUrl = overrides.baseUrl ?? env.OPENAI_BASE_URL;
  const apiKey = overrides.apiKey ?? env.OPENAI_API_KEY;
  if (!apiKey && baseUrl === OPENAI_DEFAULT_URL) {
    throw new ConfigError(
      'OPENAI_API_KEY is not set. Set it (or point OPENAI_BASE_URL at an OpenAI-compatible server that needs no key), or set ANTHROPIC_API_KEY to plan with Claude.',
    );
  }
  // Local servers (Ollama, vLLM, llama.cpp) accept any key; the client insists on one.
  return new OpenAiLlm({ baseUrl, apiKey: apiKey ?? 'no-key', ...bounds });
}

/**
 * The agent backends, by name: adding a backend is its folder plus one line here. The built-in
 * loop talks to the model through the Llm port; its commands go through the sandboxing runner.
 */
export function createAgentBackends(llm: Llm, runner: CommandRunner, env?: Env): AgentBackends {
  // Through the gateway, the built-in agent's client holds only its attempt's credential.
  const throughGateway = env
    ? (access: AgentModelAccess) =>
        createLlm(env, {
          // The planner's API: the gateway forwards it to the same upstream with the real key.
          provider: llm.provider,
          baseUrl: access.origin + access.paths[llm.provider],
          apiKey: access.credential,
          model: access.model,
        })
    : undefined;
  const builtin = new BuiltinAgentBackend(llm, runner, throughGateway);
  // A CLI is located (and its version checked) at its first use; a failure is not kept, so a CLI
  // installed later is found without a restart.
  const located = new Map<string, Promise<AgentBackend>>();
  const once = (name: string, locate: () => Promise<AgentBackend>): Promise<AgentBackend> => {
    let found = located.get(name);
    if (!found) {
      found = locate();
      located.set(name, found);
      found.catch(() => located.delete(name));
    }
    return found;
  };
  const where = {
    PATH: process.env.PATH,
    FANOUT_CLAUDE_CODE_PATH: env?.FANOUT_CLAUDE_CODE_PATH,
    FANOUT_CODEX_PATH: env?.FANOUT_CODEX_PATH,
  };
  return async (name) => {
    switch (name) {
      case 'builtin':
        return builtin;
      case 'claude-code':
        return once(
          name,
          async () => new CliAgentBackend(claudeCodeSpec, await locateCli(CLAUDE_CODE_REQUIREMENT, where), runner),
        );
      case 'codex':
        return once(name, async () => new CliAgentBackend(codexSpec, await locateCli(CODEX_CLI, where), runner));
      default:
        throw new ConfigError(`the agent backend "${name}" is not available in this version of Fanout`);
    }
  };
}

/**
 * Builds the git workspace; given the runner agents' commands run through, it trusts a pool slot's
 * tidy mark when no process a command started can outlive it.
 */
export function createWorkspace(runner?: CommandRunner): Workspace {
  return reportingFullDisk(new GitWorkspace({ trustTidySlots: runner?.confinesProcesses === true }), 'a worktree');
}

/** Where runs, event logs and worktrees live. */
export function stateDirectory(env: Env): string {
  return env.FANOUT_STATE_DIR ?? join(homedir(), '.fanout');
}

/**
 * Knows every configured secret (reads PRIVATE_KEY_PATH; a missing file is a ConfigError). Local
 * mode learns no tokens at run time, so separate instances built from one env redact alike; the
 * GitHub App wiring must share one instance and `add` each installation token to it.
 */
export function createRedactor(env: Env): SecretRedactor {
  return new SecretRedactor(secretsFromEnv(env));
}

/** Builds the coordination store (files under the state directory); nothing secret is written. */
export function createStore(env: Env, redactor: SecretRedactor = createRedactor(env)): CoordStore {
  // REDIS_URL: shared by every process and machine of the deployment; else files under the state directory.
  const backend = env.REDIS_URL
    ? new RedisCoordStore(env.REDIS_URL, env.FANOUT_REDIS_PREFIX)
    : reportingFullDisk(new FileCoordStore(stateDirectory(env)), `the state directory ${stateDirectory(env)}`);
  return redactingStore(backend, redactor);
}

/** Where agent commands run, and what that means for the reports. */
export interface CommandRunnerChoice {
  runner: CommandRunner;
  sandbox: SandboxMode;
  /** What bounds each command's processes, memory, file size and disk (`limits:`), in words. */
  commandLimits: string;
}

/**
 * Builds the runner for agent and validation commands. `bwrap` is the sandbox; `none` must be
 * asked for by name (`auto` without bubblewrap refuses), and still isolates processes so no
 * command reads Fanout's secrets; as root it is refused unless FANOUT_ALLOW_ROOT_NONE=1.
 * `trustedCommands` (the demo's scripted model, whose commands are Fanout's own) lets `auto` fall
 * back to `none` instead of refusing. Neither runner shows Fanout's own files (`ownPaths`).
 */
export function createCommandRunner(
  env: Env,
  options: {
    trustedCommands?: boolean;
    support?: SandboxSupport;
    checkout?: string;
    /** The directory Fanout started from (default: the current one). */
    startDirectory?: string;
    asRoot?: boolean;
  } = {},
): CommandRunnerChoice {
  const support = options.support ?? sandboxSupport();
  // Limits wrap the spawning runner, so they hold from the sandbox's first process on.
  const plain = new LimitedCommandRunner(new ProcessCommandRunner(), support.limits ?? limitsSupport());
  const commandLimits = plain.describe();
  const wantsNone =
    env.FANOUT_SANDBOX === 'none' ||
    (env.FANOUT_SANDBOX === 'auto' && !support.bwrap && options.trustedCommands === true);
  const startDirectory = options.startDirectory ?? process.cwd();
  const own = ownPaths({
    startDirectory,
    installDirectory: INSTALL_DIRECTORY,
    dotEnvFile: dotEnvFile(startDirectory),
    ...(env.PRIVATE_KEY_PATH ? { privateKeyPath: env.PRIVATE_KEY_PATH } : {}),
    keep: [dirname(process.execPath)],
  });
  const hidden = [
    ...defaultHiddenPaths(),
    stateDirectory(env),
    ...(env.FANOUT_WORKTREE_DIR ? [env.FANOUT_WORKTREE_DIR] : []),
    ...own,
  ];
  // Fanout's own node_modules/.bin (on PATH under `npm run`) is not a tool the commands need.
  const toolPaths = toolchainPaths(process.env.PATH, {
    home: homedir(),
    systemPaths: SYSTEM_PATHS,
    extra: [dirname(process.execPath)],
  }).filter((tool) => !own.some((path) => tool === path || tool.startsWith(`${path}/`)));
  if (wantsNone) {
    const sandbox = noneSandbox({
      asRoot: options.asRoot ?? runsAsRoot(),
      allowRoot: env.FANOUT_ALLOW_ROOT_NONE,
      trustedCommands: options.trustedCommands === true,
    });
    // No bubblewrap, but the user's home (and with it ~/.ssh, ~/.gitconfig), the checkout and
    // Fanout's state are still covered in each command's own mount namespace.
    if (support.namespaces)
      return {
        runner: new NamespaceCommandRunner(plain, {
          mapCurrentUser: support.mapCurrentUser,
          // And /tmp: other commands' private HOMEs (with setup's registry tokens) and Fanout's
          // sanitized git config copies live there; each command gets a /tmp of its own. And the
          // cgroup file system, where a command could move itself out of its limits (bubblewrap
          // shows no /sys at all).
          hiddenPaths: [homedir(), tmpdir(), CGROUP_MOUNT, ...(options.checkout ? [options.checkout] : []), ...hidden],
          toolPaths,
        }),
        sandbox,
        commandLimits,
      };
    if (options.trustedCommands) return { runner: plain, sandbox, commandLimits };
    throw new SandboxError(
      `FANOUT_SANDBOX=none still runs each agent command in its own user and PID namespace, so that it cannot read Fanout's secrets from other processes, and this machine does not allow that (unshare: ${support.namespaceProblem ?? 'failed'}). Install bubblewrap and allow unprivileged user namespaces, or run Fanout in a container or VM of its own with them allowed.`,
    );
  }
  if (!support.bwrap) {
    throw new SandboxError(
      env.FANOUT_SANDBOX === 'bwrap'
        ? 'FANOUT_SANDBOX=bwrap, but bubblewrap is not installed or cannot create namespaces here (apt-get install bubblewrap).'
        : 'No sandbox for agent commands: bubblewrap is not installed or cannot create namespaces here. Install it (apt-get install bubblewrap), or set FANOUT_SANDBOX=none to let agent commands read and write outside their worktree (every report will say so).',
    );
  }
  return {
    runner: new BwrapCommandRunner(plain, {
      hiddenPaths: hidden,
      toolPaths,
      canDisableUserns: support.bwrapDisablesUserns,
    }),
    sandbox: 'bwrap',
    commandLimits,
  };
}

/** Prepared environments: set up once per cache key under the state directory, linked into worktrees. */
export function createEnvironmentPreparers(
  env: Env,
  runner: CommandRunner,
  workspace: Workspace,
  redact?: (text: string) => string,
): EnvironmentPreparers {
  const queue = new KeyedQueue();
  const cacheDir = join(stateDirectory(env), 'environments');
  const preparers = new EnvironmentPreparers({
    runner,
    workspace,
    git: new PreparationGitCli(),
    cacheDir,
    userHome: homedir(),
    env: process.env,
    // Waiters in this process queue in memory instead of polling the lock file.
    withLock: (path, work) => queue.run(path, () => withFileLock(path, work)),
    ...(redact ? { redact } : {}),
  });
  return reportingFullDisk(preparers, `the environment cache ${cacheDir}`);
}

/** The local forge for a repository (pull requests as branches plus records in the state directory); what it posts is redacted. */
export function createLocalForge(env: Env, repoDir: string, redactor: SecretRedactor = createRedactor(env)): Forge {
  const failpoint = createFailpoint(env);
  const forge = new LocalForge(repoDir, stateDirectory(env), failpoint ? { failpoint } : {});
  return redactingForge(reportingFullDisk(forge, `the local forge's records in ${stateDirectory(env)}`), redactor);
}

/** FANOUT_FAILPOINT=<name>: the process kills itself (SIGKILL) at that point, for the fault suite. */
export function createFailpoint(env: Env): Failpoint | undefined {
  const chosen = env.FANOUT_FAILPOINT;
  if (!chosen) return undefined;
  return (name) => {
    if (name === chosen) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Where model spending is kept, beside the store: Redis with REDIS_URL (every worker's gateway adds
 * to the same figures), else files in the state directory (a resume or `fanout fix` sees them).
 */
export function createLedger(env: Env): Ledger {
  return env.REDIS_URL ? new RedisLedger(env.REDIS_URL, env.FANOUT_REDIS_PREFIX) : new FileLedger(stateDirectory(env));
}

/**
 * The process's model gateway (started at the first agent): agents hold a credential of their own,
 * the real keys stay here; bounded like every other model call.
 */
export function createModelGrants(
  env: Env,
  redactor: SecretRedactor,
  options: { ledger?: Ledger; onCall?: GatewayCallListener } = {},
): LazyGatewayGrants {
  return new LazyGatewayGrants({
    ledger: options.ledger ?? createLedger(env),
    ...(options.onCall ? { onCall: options.onCall } : {}),
    upstreams: {
      openai: { baseUrl: env.OPENAI_BASE_URL, ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}) },
      anthropic: {
        baseUrl: env.ANTHROPIC_BASE_URL,
        ...(env.ANTHROPIC_API_KEY ? { apiKey: env.ANTHROPIC_API_KEY } : {}),
      },
    },
    redactor,
    bounds: { timeoutMs: env.FANOUT_LLM_TIMEOUT_MS, answerLimitBytes: env.FANOUT_LLM_MAX_ANSWER_BYTES },
  });
}

/** Everything a local-mode run needs (forge: branches and records in the state directory). */
export function createLocalPipeline(
  env: Env,
  repoDir: string,
  llm: Llm,
  options: {
    signal?: AbortSignal;
    trustedCommands?: boolean;
    /** A store shared with the caller (several machines: one Redis connection per process). */
    store?: CoordStore;
    /** Several machines: agents through the job queue, merges under the repository's lock. */
    distributed?: Pick<PipelineDeps, 'dispatcherFor' | 'mergeExclusively'>;
    /** The process's model gateway, when it serves several pipelines (a worker's). */
    modelGrants?: LazyGatewayGrants;
  } = {},
): PipelineDeps & { sandbox: SandboxMode; close(): Promise<void> } {
  const stateDir = stateDirectory(env);
  const redactor = createRedactor(env);
  const ownGrants = options.modelGrants === undefined;
  const ledger = ownGrants ? createLedger(env) : undefined;
  const modelGrants = options.modelGrants ?? createModelGrants(env, redactor, { ledger });
  const failpoint = createFailpoint(env);
  const { runner, sandbox, commandLimits } = createCommandRunner(env, {
    checkout: repoDir,
    ...(options.trustedCommands ? { trustedCommands: true } : {}),
  });
  const workspace = createWorkspace(runner);
  const environments = createEnvironmentPreparers(env, runner, workspace, (text) => redactor.text(text));
  return {
    llm,
    agents: createAgentBackends(llm, runner, env),
    modelGrants,
    // A gateway shared with other pipelines is its owner's to close.
    close: async () => {
      if (!ownGrants) return;
      await modelGrants.close();
      await ledger?.close();
    },
    workspace,
    prepareWorktree: (worktree, config, context) => environments.prepare(worktree, config, context),
    runner,
    sandbox,
    commandLimits,
    store: options.store ?? createStore(env, redactor),
    forge: createLocalForge(env, repoDir, redactor),
    ...options.distributed,
    ...(failpoint ? { failpoint } : {}),
    redact: (text) => redactor.text(text),
    probes: new ProbeCache(jsonFileStorage(join(stateDir, 'probe-cache.json'))),
    baselines: new BaselineCache(jsonFileStorage(join(stateDir, 'baseline-cache.json'))),
    // Worktrees are disposable (the work lives on branches), so they may sit on a faster disk.
    worktreeRoot: env.FANOUT_WORKTREE_DIR ?? join(stateDir, 'worktrees'),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.store ? {} : { diskReserve: new DiskReserve(join(stateDir, 'disk-reserve')) }),
  };
}
