import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayCallEvent } from '../../adapters/gateway/call-event.js';
import { DEFAULT_LIMITS } from '../../agent/limits.js';
import type { Env } from '../../config/env.js';
import { createRepository } from '../../demo/sample-repo.js';
import type { AgentBackendName } from '../../domain/agent-backend.js';
import { FanoutError } from '../../domain/errors.js';
import { protectedPaths } from '../../domain/protected-paths.js';
import { createAgentBackends, createCommandRunner, createLlm, createModelGrants, createRedactor } from '../../main.js';
import type { AgentBackend, AgentReporter, AgentRequest } from '../../ports/agent-backend.js';
import type { CommandRunner } from '../../ports/command-runner.js';

/** One check of `fanout doctor --agent`. */
export interface AgentDoctorCheck {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
}

/** What `fanout doctor --agent NAME` found. */
export interface AgentDoctorReport {
  ok: boolean;
  backend: AgentBackendName;
  model: string | null;
  checks: AgentDoctorCheck[];
}

// A round trip is one short answer: a few steps, a couple of minutes at most.
const ROUND_TRIP_LIMITS = { ...DEFAULT_LIMITS, maxSteps: 4, maxWallMs: 180_000, stallMs: 120_000 };

const SAY_OK = {
  id: 'doctor',
  title: 'Answer with one word',
  instructions: 'Reply with the single word OK. Do not use any tool and do not change any file.',
  writeScope: ['fanout-doctor.txt'],
  readScope: [],
  dependsOn: [],
};

/**
 * Checks an agent backend the way a run uses it: the backend as the composition root builds it
 * (an agent CLI found and its version checked), the sandbox its commands run in, and one short
 * session in a scratch repository through Fanout's gateway to the configured endpoint.
 */
export async function checkAgent(
  name: AgentBackendName,
  env: Env,
  options: { model?: string } = {},
): Promise<AgentDoctorReport> {
  const checks: AgentDoctorCheck[] = [];
  const report = (model: string | null): AgentDoctorReport => ({
    ok: checks.every((check) => check.status !== 'failed'),
    backend: name,
    model,
    checks,
  });
  let runner: CommandRunner;
  try {
    const choice = createCommandRunner(env);
    runner = choice.runner;
    checks.push({ name: 'sandbox', status: 'passed', detail: `agent commands run in ${choice.sandbox}` });
  } catch (error) {
    if (!(error instanceof FanoutError)) throw error;
    checks.push({ name: 'sandbox', status: 'failed', detail: error.message });
    return report(null);
  }
  let backend: AgentBackend;
  try {
    // Only the built-in agent talks to the model through this client; a CLI backend never calls it.
    const llm = createLlm(env, { ...(name === 'builtin' ? {} : { apiKey: 'unused' }), ...options });
    backend = await createAgentBackends(llm, runner, env)(name);
  } catch (error) {
    if (!(error instanceof FanoutError)) throw error;
    checks.push({ name: 'backend', status: 'failed', detail: error.message });
    checks.push({ name: 'round trip', status: 'skipped', detail: 'no backend to run' });
    return report(null);
  }
  checks.push({
    name: 'backend',
    status: 'passed',
    detail: backend.binary
      ? `${backend.binary.path}, version ${backend.binary.version}`
      : `${name} (Fanout's own agent, no binary)`,
  });
  // The built-in agent asks for the planner's model (FANOUT_MODEL, or its provider's default).
  const model = options.model ?? backend.defaultModel ?? createLlm(env).model;
  checks.push(await roundTrip(backend, runner, env, model));
  return report(model);
}

/** One short session through a gateway of its own, to the configured endpoint, asked to answer OK. */
async function roundTrip(
  backend: AgentBackend,
  runner: CommandRunner,
  env: Env,
  model: string,
): Promise<AgentDoctorCheck> {
  const calls: GatewayCallEvent[] = [];
  // The first refused or failed call is the answer: an agent CLI would retry it for minutes.
  const stop = new AbortController();
  let failed: GatewayCallEvent | undefined;
  const grants = createModelGrants(env, createRedactor(env), {
    onCall: (call) => {
      calls.push(call);
      if (call.status < 400 || failed) return;
      failed = call;
      stop.abort();
    },
  });
  const scratch = await mkdtemp(join(tmpdir(), 'fanout-doctor-'));
  const home = await runner.privateHome();
  const started = performance.now();
  try {
    const repo = await realpath(scratch);
    await createRepository(repo, { 'README.md': '# Fanout doctor\n' });
    const grant = await grants.grant({ runId: 'doctor', subtaskId: 'doctor', attempt: 1, model });
    const request: AgentRequest = {
      subtask: SAY_OK,
      worktree: {
        repoDir: repo,
        path: repo,
        gitDir: join(repo, '.git'),
        commonDir: join(repo, '.git'),
        branch: 'main',
        baseCommit: 'HEAD',
      },
      canWrite: () => false,
      protectedPaths: protectedPaths(),
      home: home.path,
      network: false,
      limits: ROUND_TRIP_LIMITS,
      worktreeChanges: async () => new Map(),
      model: grant.access,
    };
    const outcome = await backend.run(request, silentReporter(), stop.signal).finally(() => grant.revoke());
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const endpoint = endpointOf(calls, env);
    if (failed) {
      const why = failed.error ?? failed.outcome;
      return {
        name: 'round trip',
        status: 'failed',
        detail: `${model} at ${endpoint}: ${why} (HTTP ${failed.status})`,
      };
    }
    if (outcome.kind === 'failed')
      return {
        name: 'round trip',
        status: 'failed',
        detail: `${model} at ${endpoint}: ${outcome.reason}: ${outcome.message}`,
      };
    const tokens = calls.reduce(
      (sum, call) => sum + (call.usage ? call.usage.inputTokens + call.usage.outputTokens : 0),
      0,
    );
    const cost = calls.reduce((sum, call) => sum + (call.costUsd ?? 0), 0);
    const answer = outcome.summary.trim().replace(/\s+/g, ' ').slice(0, 80);
    return {
      name: 'round trip',
      status: 'passed',
      detail: `${model} at ${endpoint} answered "${answer}" through Fanout's gateway in ${seconds} s (${calls.length} call${calls.length === 1 ? '' : 's'}, ${tokens} tokens, ${cost > 0 ? `$${cost.toFixed(4)}` : 'no known price'})`,
    };
  } finally {
    await home.dispose();
    await grants.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The upstream the session's calls went to (the configured endpoint of their API). */
function endpointOf(calls: readonly GatewayCallEvent[], env: Env): string {
  const api = calls.find((call) => call.api !== 'other')?.api;
  if (api === 'anthropic-messages') return env.ANTHROPIC_BASE_URL;
  if (api) return env.OPENAI_BASE_URL;
  return 'the configured endpoint (no model call was made)';
}

function silentReporter(): AgentReporter {
  return { event: async () => undefined, progress: async () => undefined };
}
