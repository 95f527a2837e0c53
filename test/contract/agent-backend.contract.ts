import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { LazyGatewayGrants } from '../../src/adapters/gateway/lazy-gateway-grants.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { DEFAULT_LIMITS, type AgentLimits } from '../../src/agent/limits.js';
import { storeReporter } from '../../src/agent/reporter.js';
import { runSubtask, type SubtaskOutcome } from '../../src/agent/run-subtask.js';
import { loadEnv, type Env } from '../../src/config/env.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { Subtask } from '../../src/domain/plan.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { createCommandRunner } from '../../src/main.js';
import type { AgentBackend } from '../../src/ports/agent-backend.js';
import type { CommandRunner } from '../../src/ports/command-runner.js';
import type { ModelGrantRequest } from '../../src/ports/model-grants.js';
import type { ScriptedStep, StepServer } from '../support/agent-steps.js';

/** The upstreams' real keys, planted where an agent might look: no trace of them may reach a model. */
export const CANARY_KEYS = {
  openai: 'sk-canary-openai-0c1d2e3f4a5b6c7d8e9f',
  anthropic: 'sk-ant-canary-anthropic-9f8e7d6c5b4a3f2e',
} as const;

/** One backend as the contract runs it: its model server, the model it asks for, and how it is built. */
export interface AgentBackendSubject {
  name: string;
  /** A model the gateway's price table knows, so the cost is reported. */
  model: string;
  /** Its model server, playing the contract's steps in the wire format the backend speaks. */
  server(): Promise<StepServer>;
  /** The backend, commands through `runner` (the bwrap sandbox, as `fanout run` composes it). */
  backend(deps: { runner: CommandRunner; env: Env }): Promise<AgentBackend>;
  /** False when its stream cannot say each call's usage (the gateway's count is then all there is). */
  usagePerCall?: boolean;
}

const SCOPE = ['src/greet.js', 'test/shout.test.js'];

/**
 * The same cases for every agent backend, each run as a run runs it: `runSubtask` in a worktree
 * of a sample repository, the model behind a real gateway (the unix socket and, for CLIs, the
 * relay inside the sandbox), commands in the bwrap sandbox, the scope checked at commit.
 */
export function agentBackendContract(subject: AgentBackendSubject): void {
  describe(`the ${subject.name} backend`, () => {
    let fixture: Fixture;
    beforeAll(async () => {
      fixture = await startFixture(subject);
    }, 60_000);
    afterAll(async () => fixture?.close());

    it('commits an in-scope write, with its summary, and reports model calls with usage and the cost', async () => {
      const result = await fixture.run('in-scope', [
        { read: 'src/greet.js', usage: usage(200, 10) },
        { write: 'src/greet.js', content: 'export const greet = (name) => `Hi, ${name}!`;\n', usage: usage(300, 40) },
        { answer: 'Greets with Hi now.', usage: usage(400, 20) },
      ]);

      expect(result.outcome).toMatchObject({
        kind: 'succeeded',
        files: ['src/greet.js'],
        summary: 'Greets with Hi now.',
      });
      expect(fixture.show(result.outcome, 'src/greet.js')).toBe('export const greet = (name) => `Hi, ${name}!`;\n');
      const perCall = [
        { promptTokens: 200, completionTokens: 10 },
        { promptTokens: 300, completionTokens: 40 },
        { promptTokens: 400, completionTokens: 20 },
      ];
      // The gateway's count of every call, whatever the backend; and the agent's own, where its stream says.
      const costs = result.events.filter((event) => event.type === 'model-cost');
      expect(costs.map((cost) => cost.data?.usage)).toEqual(perCall);
      const calls = result.events.filter((event) => event.type === 'model-call');
      if (subject.usagePerCall !== false) expect(calls.map((call) => call.data?.usage)).toEqual(perCall);
      else expect(calls.length).toBeGreaterThan(0);
      expect(result.outcome.tokens).toEqual({ prompt: 900, completion: 70 });
      expect(result.outcome.costUsd).toBeGreaterThan(0);
    });

    it('refuses an out-of-scope write while the agent runs (the model reads why) and never commits it', async () => {
      // Read first: Claude Code refuses to overwrite a file its session has not read.
      const result = await fixture.run('out-of-scope', [
        { read: 'README.md' },
        { write: 'README.md', content: 'mine\n' },
        { read: 'src/greet.js' },
        { write: 'src/greet.js', content: 'export const greet = () => 2;\n' },
        { answer: 'Changed greet; README.md is not mine to change.' },
      ]);

      const refusal = fixture.server.toolResults()[1]!;
      expect(refusal.text).toContain(
        `"README.md" is outside this subtask's write scope (allowed: ${SCOPE.join(', ')})`,
      );
      expect(refusal.isError).not.toBe(false);
      expect(result.outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'] });
      expect(fixture.show(result.outcome, 'README.md')).toBe(SAMPLE_FILES['README.md']);
    });

    it('lets a key hunt (environment, processes, HOME and its own config) find no real key', async () => {
      const hunt = [
        'env',
        'cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n" | sort -u',
        'tr "\\0" " " < /proc/self/cmdline; echo',
        'grep -rIoh "sk-[A-Za-z0-9_-]*" "$HOME" /proc/*/cmdline /proc/*/environ 2>/dev/null | sort -u',
        'ls -a "$HOME" "$HOME/.claude" 2>/dev/null; cat "$HOME/.claude.json" 2>/dev/null | head -c 4000',
        'echo hunt-over',
      ].join('; ');
      const result = await fixture.run('key-hunt', [{ run: hunt }, { answer: 'Looked around.' }]);

      const [found] = fixture.server.toolResults();
      // The hunt ran, and what it found went to the model.
      expect(found!.text).toContain('hunt-over');
      expect(found!.text).toContain('HOME=');
      for (const body of fixture.server.sent()) {
        expect(body).not.toContain(CANARY_KEYS.openai);
        expect(body).not.toContain(CANARY_KEYS.anthropic);
      }
      expect(result.events.map((event) => event.type)).toContain('tool-call');
    });

    it('cancels an identical tool call repeated, as looping, within 4 calls', async () => {
      const result = await fixture.run(
        'looping',
        Array.from({ length: 8 }, () => ({ read: 'src/index.js' })),
      );

      expect(result.outcome).toMatchObject({ kind: 'failed', reason: 'looping' });
      expect(result.outcome.steps).toBeLessThanOrEqual(4);
    });

    it('cancels a silent stream as stalled', async () => {
      const result = await fixture.run('stalled', [{ read: 'src/index.js' }, { stall: true }], {
        limits: { stallMs: 2_000 },
      });

      expect(result.outcome).toMatchObject({ kind: 'failed', reason: 'stalled' });
    });

    it('ends at the budget the gateway enforces, with the figure in the reason', async () => {
      const result = await fixture.run(
        'budget',
        [
          { read: 'src/index.js', usage: usage(700, 400) },
          { write: 'src/greet.js', content: 'export const greet = () => 3;\n' },
          { answer: 'Done.' },
        ],
        { budget: { agent: { maxTokens: 1_000 } } },
      );

      expect(result.outcome).toMatchObject({
        kind: 'failed',
        reason: 'budget',
        message: 'Fanout budget reached: 1,100 of 1,000 tokens for this agent',
      });
      // The refusal ended the agent at once: no second call was answered, none was retried.
      expect(result.modelCalls).toEqual([200, 429]);
    });

    it('is cancelled by the run: the attempt ends cancelled and leaves no process behind', async () => {
      const marker = `${process.pid % 1000}${Date.now() % 100_000}.25`;
      const controller = new AbortController();
      // Not a leading long `sleep`, which Claude Code's shell tool refuses.
      const running = fixture.run('cancelled', [{ run: `echo waiting && sleep ${marker}` }], {
        signal: controller.signal,
      });
      await until(() => sleepers(marker) > 0);
      controller.abort();
      const result = await running;

      expect(result.outcome).toMatchObject({ kind: 'failed', reason: 'cancelled' });
      await until(() => sleepers(marker) === 0);
      // Nothing the agent started still holds its credential (a CLI, its relay, its hook).
      await until(() => processesWith(result.credentials[0]!) === 0);
    });
  });
}

function usage(input: number, output: number) {
  return { input, output };
}

interface CaseResult {
  outcome: SubtaskOutcome;
  events: Array<{ type: string; data?: Record<string, unknown> }>;
  /** The statuses of the agent's model calls, as the gateway answered them. */
  modelCalls: number[];
  /** The per-agent credentials the gateway granted. */
  credentials: string[];
}

interface Fixture {
  server: StepServer;
  run(
    name: string,
    steps: ScriptedStep[],
    options?: { limits?: Partial<AgentLimits>; budget?: ModelGrantRequest['budget']; signal?: AbortSignal },
  ): Promise<CaseResult>;
  /** A file as the outcome's commit holds it (the base's when nothing was committed). */
  show(outcome: SubtaskOutcome, path: string): string;
  close(): Promise<void>;
}

async function startFixture(subject: AgentBackendSubject): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'fanout-backend-contract-'));
  const repo = join(root, 'repo');
  await createRepository(repo);
  const server = await subject.server();
  const env = loadEnv({ FANOUT_SANDBOX: 'bwrap', FANOUT_STATE_DIR: join(root, 'state') });
  const { runner } = createCommandRunner(env, { checkout: repo });
  const backend = await subject.backend({ runner, env });
  const grants = new LazyGatewayGrants({
    upstreams: {
      openai: { baseUrl: server.upstreams.openai, apiKey: CANARY_KEYS.openai },
      anthropic: { baseUrl: server.upstreams.anthropic, apiKey: CANARY_KEYS.anthropic },
    },
  });
  const workspace = new GitWorkspace();
  const baseCommit = await workspace.resolveCommit(repo, 'HEAD');
  const store = new MemoryCoordStore();
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
  return {
    server,
    async run(name, steps, options = {}) {
      const subtask: Subtask = {
        id: name,
        title: 'Add a shout option',
        instructions: 'Give greet(name, options) an optional { shout: true } that upper-cases the greeting.',
        writeScope: SCOPE,
        readScope: ['src/index.js'],
        dependsOn: [],
      };
      await store.putSubtask({
        runId: 'contract',
        subtaskId: name,
        state: 'running',
        attempt: 1,
        step: 0,
        updatedAt: new Date().toISOString(),
      });
      server.play(steps);
      const modelCalls: number[] = [];
      const credentials: string[] = [];
      const outcome = await runSubtask({
        backend,
        modelAccess: async (attempt, hooks) => {
          const grant = await grants.grant({
            runId: 'contract',
            subtaskId: name,
            attempt,
            model: subject.model,
            ...(options.budget ? { budget: options.budget } : {}),
            ...hooks,
            onCall: (call) => {
              modelCalls.push(call.status);
              hooks.onCall?.(call);
            },
          });
          credentials.push(grant.access.credential);
          return grant;
        },
        workspace,
        runner,
        repoDir: repo,
        runId: 'contract',
        baseCommit,
        subtask,
        protectedPaths: protectedPaths(),
        worktreeRoot: join(root, 'worktrees'),
        limits: { ...DEFAULT_LIMITS, ...options.limits },
        reporterFor: (attempt) => storeReporter(store, 'contract', name, `${name}-${attempt}`),
        maxAttempts: 1,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await workspace.settled();
      const events = await store.readEvents('contract', `${name}-1`);
      return { outcome, events, modelCalls, credentials };
    },
    show(outcome, path) {
      return git('show', `${outcome.kind === 'succeeded' ? outcome.commit : baseCommit}:${path}`);
    },
    async close() {
      await grants.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Processes still running `sleep <marker>` (zombies aside). */
function sleepers(marker: string): number {
  return execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim().endsWith(`sleep ${marker}`) && !line.trim().startsWith('Z')).length;
}

/** Live processes whose command line holds `text`. */
function processesWith(text: string): number {
  return execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
    .split('\n')
    .filter((line) => line.includes(text) && !line.trim().startsWith('Z')).length;
}

/** Resolves once `condition` holds (checked every 50 ms), failing after 20 s. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not so after 20 s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
