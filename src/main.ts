import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { BwrapCommandRunner, bwrapAvailable, defaultHiddenPaths } from './adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from './adapters/command/process-runner.js';
import { FileCoordStore } from './adapters/coord/file-store.js';
import { LocalForge } from './adapters/forge/local-forge.js';
import { jsonFileStorage } from './adapters/json-file.js';
import { OpenAiLlm } from './adapters/llm/openai-llm.js';
import { GitWorkspace } from './adapters/workspace/git-workspace.js';
import type { Env } from './config/env.js';
import { ConfigError } from './domain/errors.js';
import type { CommandRunner } from './ports/command-runner.js';
import type { CoordStore } from './ports/coord-store.js';
import type { Llm } from './ports/llm.js';
import type { Workspace } from './ports/workspace.js';
import type { PipelineDeps } from './orchestrate/pipeline-deps.js';
import { ProbeCache } from './orchestrate/probe-cache.js';

const OPENAI_DEFAULT_URL = 'https://api.openai.com/v1';

/** Builds the model adapter from validated settings (composition root: the only place adapters are chosen). */
export function createLlm(env: Env, overrides: { baseUrl?: string; apiKey?: string; model?: string } = {}): Llm {
  const baseUrl = overrides.baseUrl ?? env.OPENAI_BASE_URL;
  const apiKey = overrides.apiKey ?? env.OPENAI_API_KEY;
  if (!apiKey && baseUrl === OPENAI_DEFAULT_URL) {
    throw new ConfigError('OPENAI_API_KEY is not set. Set it, or point OPENAI_BASE_URL at an OpenAI-compatible server that needs no key.');
  }
  return new OpenAiLlm({
    baseUrl,
    // Local servers (Ollama, vLLM, llama.cpp) accept any key; the client insists on one.
    apiKey: apiKey ?? 'no-key',
    model: overrides.model ?? env.FANOUT_MODEL,
    timeoutMs: env.FANOUT_LLM_TIMEOUT_MS,
    idleTimeoutMs: env.FANOUT_LLM_IDLE_TIMEOUT_MS,
    maxRetries: env.FANOUT_LLM_MAX_RETRIES,
    stream: env.FANOUT_LLM_STREAM,
  });
}

/** Builds the git workspace adapter. */
export function createWorkspace(): Workspace {
  return new GitWorkspace();
}

/** Where runs, event logs and worktrees live. */
export function stateDirectory(env: Env): string {
  return env.FANOUT_STATE_DIR ?? join(homedir(), '.fanout');
}

/** Builds the coordination store (files under the state directory). */
export function createStore(env: Env): CoordStore {
  return new FileCoordStore(stateDirectory(env));
}

/** Builds the runner for agent and validation commands: sandboxed with bubblewrap when available or required. */
export function createCommandRunner(env: Env): { runner: CommandRunner; sandboxed: boolean } {
  const plain = new ProcessCommandRunner();
  if (env.FANOUT_SANDBOX === 'none') return { runner: plain, sandboxed: false };
  if (!bwrapAvailable()) {
    if (env.FANOUT_SANDBOX === 'bwrap') throw new ConfigError('FANOUT_SANDBOX=bwrap, but bubblewrap is not installed or cannot create namespaces here (apt-get install bubblewrap).');
    return { runner: plain, sandboxed: false };
  }
  const hidden = [
    ...defaultHiddenPaths(),
    stateDirectory(env),
    ...(env.FANOUT_WORKTREE_DIR ? [env.FANOUT_WORKTREE_DIR] : []),
    ...(env.PRIVATE_KEY_PATH ? [dirname(env.PRIVATE_KEY_PATH)] : []),
  ];
  return { runner: new BwrapCommandRunner(plain, { hiddenPaths: hidden }), sandboxed: true };
}

/** The local forge for a repository (pull requests as branches plus records in the state directory). */
export function createLocalForge(env: Env, repoDir: string): LocalForge {
  return new LocalForge(repoDir, stateDirectory(env));
}

/** Everything a local-mode run needs (forge: branches and records in the state directory). */
export function createLocalPipeline(env: Env, repoDir: string, llm: Llm, signal?: AbortSignal): PipelineDeps & { sandboxed: boolean } {
  const stateDir = stateDirectory(env);
  const { runner, sandboxed } = createCommandRunner(env);
  return {
    llm,
    workspace: createWorkspace(),
    runner,
    sandboxed,
    store: createStore(env),
    forge: createLocalForge(env, repoDir),
    probes: new ProbeCache(jsonFileStorage(join(stateDir, 'probe-cache.json'))),
    // Worktrees are disposable (the work lives on branches), so they may sit on a faster disk.
    worktreeRoot: env.FANOUT_WORKTREE_DIR ?? join(stateDir, 'worktrees'),
    ...(signal ? { signal } : {}),
  };
}
