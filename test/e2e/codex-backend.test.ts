import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CODEX_CLI } from '../../src/adapters/agent-cli/codex-cli.js';
import { locateCli } from '../../src/adapters/agent-cli/locate-cli.js';
import type { GatewayCallEvent } from '../../src/adapters/gateway/call-event.js';
import { LazyGatewayGrants } from '../../src/adapters/gateway/lazy-gateway-grants.js';
import { CliAgentBackend } from '../../src/agent/cli/cli-backend.js';
import { CODEX_DEFAULT_MODEL, codexSpec } from '../../src/agent/codex/codex-spec.js';
import { loadEnv } from '../../src/config/env.js';
import { createCommandRunner } from '../../src/main.js';
import type { CommandRunner } from '../../src/ports/command-runner.js';
import type { ModelGrantRequest } from '../../src/ports/model-grants.js';
import {
  startScriptedResponsesServer,
  type ScriptedResponsesServer,
} from '../../src/scripted-model/responses-server.js';
import { responsesToolOutputs, type ResponsesBody } from '../../src/scripted-model/responses-wire.js';
import { answer, toolCall, type RecordedCall, type ScriptedTurn } from '../../src/scripted-model/turns.js';
import { agentHarness, SHOUT_SUBTASK } from '../support/agent-harness.js';
import { REAL_KEYS } from '../support/gateway-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';

// The real `codex` binary (0.171, the pinned devDependency) as Fanout's `codex` backend: found by
// locateCli, run by the CLI driver in the bubblewrap sandbox `fanout run` composes, its model calls
// through a real gateway (per-agent credential, real key upstream, metering, budgets) to the
// scripted Responses server. One server, gateway, sandbox and binary serve every case.

const usage = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens });
const patch = (...lines: string[]) => ['*** Begin Patch', ...lines, '*** End Patch', ''].join('\n');
const GREET =
  'export function greet(name, options = {}) {\n  return options.shout ? `HELLO, ${name}!` : `Hello, ${name}!`;\n}\n';

describeWithSandbox('the codex backend (the real Codex CLI, in the sandbox, through the gateway)', 'bwrap', () => {
  let server: ScriptedResponsesServer;
  let grants: LazyGatewayGrants;
  let runner: CommandRunner;
  let backend: CliAgentBackend;
  let state: string;
  // Each case sets the turns the model plays; calls are told apart by the order they come in.
  let script: (call: RecordedCall<ResponsesBody>) => ScriptedTurn = () => answer('No script.');
  const gatewayCalls: GatewayCallEvent[] = [];
  // Each case is a run of its own for the gateway's ledger (budgets count per run and attempt).
  let runs = 0;

  beforeAll(async () => {
    server = await startScriptedResponsesServer({ script: (call) => script(call) });
    grants = new LazyGatewayGrants({
      // The upstream's real key: the canary the key hunt looks for.
      upstreams: {
        openai: { baseUrl: server.baseUrl, apiKey: REAL_KEYS.openai },
        anthropic: { baseUrl: server.origin, apiKey: REAL_KEYS.anthropic },
      },
      onCall: (event) => gatewayCalls.push(event),
    });
    state = await mkdtemp(join(tmpdir(), 'fanout-codex-state-'));
    runner = createCommandRunner(loadEnv({ FANOUT_SANDBOX: 'bwrap', FANOUT_STATE_DIR: state })).runner;
    const binary = await locateCli(CODEX_CLI, { PATH: process.env.PATH });
    backend = new CliAgentBackend(codexSpec, binary, runner);
  });

  afterAll(async () => {
    await grants?.close();
    await server?.close();
    if (state) await rm(state, { recursive: true, force: true });
  });

  /** Plays `turns` in order to the next calls; what the model was sent is read from `sent`. */
  function play(turns: ScriptedTurn[]) {
    const first = server.requests.length;
    const queue = [...turns];
    script = () => queue.shift() ?? answer('Out of script.');
    return { sent: () => server.requests.slice(first) };
  }

  /** One subtask run by the codex backend in a fresh sample repository, through the gateway. */
  async function codexRun(options: Parameters<typeof agentHarness>[1] & { budget?: ModelGrantRequest['budget'] } = {}) {
    const credentials: string[] = [];
    const runId = `codex-run-${(runs += 1)}`;
    const firstCall = gatewayCalls.length;
    const { budget, ...harness } = options;
    const h = await agentHarness([], {
      maxAttempts: 1,
      ...harness,
      runner,
      backend: () => backend,
      modelAccess: async (attempt, hooks) => {
        const grant = await grants.grant({
          runId,
          subtaskId: (harness.subtask ?? SHOUT_SUBTASK).id,
          attempt,
          model: backend.defaultModel ?? CODEX_DEFAULT_MODEL,
          ...(budget ? { budget } : {}),
          ...hooks,
        });
        credentials.push(grant.access.credential);
        return grant;
      },
    });
    const log = async () => (await h.store.readEvents(h.runId, `${h.subtask.id}-1`)).map((e) => e.type);
    const calls = () => gatewayCalls.slice(firstCall);
    return { ...h, log, calls, credentials };
  }

  it('commits an in-scope patch with its summary, and reports usage and cost as the gateway metered them', async () => {
    const model = play([
      toolCall('apply_patch', patch('*** Update File: src/greet.js', ...replaceAll(GREET)), {
        usage: usage(1000, 100),
      }),
      toolCall(
        'exec_command',
        { cmd: "node -e \"import('./src/greet.js').then((m) => console.log(m.greet('Ada', { shout: true })))\"" },
        { usage: usage(2000, 200) },
      ),
      answer('greet(name, { shout: true }) shouts.', { usage: usage(3000, 300) }),
    ]);
    const h = await codexRun();

    const outcome = await h.run();

    expect(outcome).toMatchObject({
      kind: 'succeeded',
      files: ['src/greet.js'],
      summary: 'greet(name, { shout: true }) shouts.',
      steps: 3,
      tokens: { prompt: 6000, completion: 600 },
    });
    expect(outcome.costUsd).toBeCloseTo((6000 * 5 + 600 * 30) / 1e6, 9);
    expect(responsesToolOutputs(model.sent()[2]!.body).at(-1)!.text).toContain('HELLO, Ada!');
    const log = await h.log();
    // The agent's own view of its steps, and the gateway's view of each call's cost beside it.
    expect(log.filter((type) => type !== 'model-cost')).toEqual([
      'agent-started',
      'model-call',
      'tool-call',
      'model-call',
      'tool-call',
      'model-call',
      'agent-finished',
      'committed',
    ]);
    expect(log.filter((type) => type === 'model-cost')).toHaveLength(3);
    // Every call went through the gateway with the agent's credential and the model asked for.
    expect(h.calls().map((call) => [call.status, call.model])).toEqual([
      [200, 'gpt-5.5'],
      [200, 'gpt-5.5'],
      [200, 'gpt-5.5'],
    ]);
    for (const call of model.sent()) expect(call.headers.authorization).toBe(`Bearer ${REAL_KEYS.openai}`);
  });

  it('refuses an out-of-scope or protected patch by its hook while it runs (the model reads why), and commits none of it', async () => {
    const model = play([
      toolCall(
        'apply_patch',
        patch(
          '*** Add File: src/extra.js',
          '+export const extra = 1;',
          '*** Add File: .github/workflows/ci.yml',
          '+on: push',
        ),
      ),
      toolCall('apply_patch', patch('*** Update File: src/greet.js', ...replaceAll(GREET))),
      answer('Added the shout option; src/extra.js was outside my scope.'),
    ]);
    const h = await codexRun();

    const outcome = await h.run();

    const refusal = responsesToolOutputs(model.sent()[1]!.body).at(-1)!.text;
    expect(refusal).toContain('Fanout refused this patch');
    expect(refusal).toContain(`"src/extra.js" is outside this subtask's write scope`);
    expect(refusal).toContain(`".github/workflows/ci.yml" is protected`);
    expect(refusal).toContain('(allowed: src/greet.js, test/shout.test.js)');
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'] });
    expect(await h.workspace.listFiles(h.repo, 'main')).not.toContain('src/extra.js');
  });

  it('gives a session whose command wrote outside its scope one more turn (exec resume), and commits once it is put back', async () => {
    const model = play([
      toolCall('exec_command', { cmd: 'echo mine >> README.md' }, { usage: usage(100, 10) }),
      toolCall('apply_patch', patch('*** Update File: src/greet.js', ...replaceAll(GREET)), { usage: usage(200, 20) }),
      answer('Done.', { usage: usage(300, 30) }),
      toolCall('exec_command', { cmd: 'git show HEAD:README.md > README.md' }, { usage: usage(400, 40) }),
      answer('Put README.md back; kept to my scope.', { usage: usage(500, 50) }),
    ]);
    const h = await codexRun();

    const outcome = await h.run();

    expect(outcome).toMatchObject({
      kind: 'succeeded',
      files: ['src/greet.js'],
      summary: 'Put README.md back; kept to my scope.',
      // Codex sums usage over the thread: both sessions count, once.
      tokens: { prompt: 1500, completion: 150 },
    });
    const resumed = model.sent()[3]!;
    expect(JSON.stringify(resumed.body.input)).toContain('outside your write scope: README.md');
    // The same thread: the whole history went along.
    expect(resumed.headers['thread-id']).toBe(model.sent()[0]!.headers['thread-id']);
  });
});

/** Patch lines that replace the sample's greet.js with `content`. */
function replaceAll(content: string): string[] {
  const old = 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n';
  return [
    '@@',
    ...old
      .trimEnd()
      .split('\n')
      .map((line) => `-${line}`),
    ...content
      .trimEnd()
      .split('\n')
      .map((line) => `+${line}`),
  ];
}
