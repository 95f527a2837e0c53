import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { CliAgentBackend } from '../../src/agent/cli/cli-backend.js';
import type { ModelGrant } from '../../src/ports/model-grants.js';
import { agentHarness, SHOUT_SUBTASK } from '../support/agent-harness.js';
import { fakeCliSpec, type FakeCliProgram } from '../support/fake-cli/fake-cli-spec.js';

const FAKE_CLI = join(import.meta.dirname, '../support/fake-cli/fake-agent-cli.mjs');

/** Access as the gateway grants it; the fake CLI never calls a model. */
async function grant(): Promise<ModelGrant> {
  return {
    access: {
      model: 'fake-model',
      credential: 'fanout-agent-test',
      origin: 'http://127.0.0.1:9',
      paths: { openai: '/openai/v1', anthropic: '/anthropic', toolUseHook: '/fanout/v1/tool-use' },
    },
    revoke: async () => undefined,
  };
}

/** The fake CLI through the CLI backend driver, in a real worktree of the sample repository. */
async function cliHarness(program: FakeCliProgram, options: Parameters<typeof agentHarness>[1] = {}) {
  const spec = fakeCliSpec(program);
  const h = await agentHarness([], {
    maxAttempts: 1,
    ...options,
    backend: (runner) =>
      new CliAgentBackend(spec, { path: FAKE_CLI, version: '1.0.0', installation: [dirname(FAKE_CLI)] }, runner),
    modelAccess: grant,
  });
  const log = async (attempt = 1) =>
    (await h.store.readEvents(h.runId, `${h.subtask.id}-${attempt}`)).map((e) => e.type);
  return { ...h, spec, log };
}

/** Processes still running `sleep <marker>`. */
function sleepers(marker: string): number {
  return execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim().endsWith(`sleep ${marker}`) && !line.trim().startsWith('Z')).length;
}

describe('an agent CLI as a backend (the driver, with a stand-in CLI)', () => {
  it('commits the in-scope work it did, with its summary, and logs its model calls and tool calls', async () => {
    const h = await cliHarness({
      steps: [{ read: 'src/greet.js' }, { write: 'src/greet.js', content: 'export const greet = () => 1;\n' }],
      summary: 'Rewrote greet.',
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'], summary: 'Rewrote greet.', steps: 2 });
    expect(outcome.tokens).toEqual({ prompt: 20, completion: 10 });
    expect(await h.log()).toEqual([
      'agent-started',
      'model-call',
      'tool-call',
      'model-call',
      'tool-call',
      'agent-finished',
      'committed',
    ]);
    expect(h.spec.prompts[0]).toContain('Write scope (the only files you may create or change)');
  });

  it('cancels an identical tool call repeated, as looping, within 4 calls', async () => {
    const h = await cliHarness({ steps: Array.from({ length: 8 }, () => ({ read: 'src/index.js' })) });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'looping' });
    expect(outcome.steps).toBeLessThanOrEqual(4);
    expect(await h.log()).toContain('guard-hint');
  });

  it('starts a retry as a new session with the hint in front of the task', async () => {
    const h = await cliHarness(
      { steps: Array.from({ length: 6 }, () => ({ read: 'src/index.js' })) },
      { maxAttempts: 2 },
    );
    expect(await h.run()).toMatchObject({ kind: 'failed', reason: 'looping', attempts: 2 });
    const retry = h.spec.prompts[1]!;
    expect(retry.indexOf('Note from your previous attempt')).toBeGreaterThan(-1);
    expect(retry.indexOf('Note from your previous attempt')).toBeLessThan(retry.indexOf('Your subtask:'));
    expect(retry).toContain('repeating the same call');
  });

  it('cancels a silent stream as stalled and leaves no process behind (in the sandbox)', async () => {
    const marker = `${process.pid}${Date.now() % 100000}.5`;
    const runner = new BwrapCommandRunner(new ProcessCommandRunner(), {
      hiddenPaths: [],
      canDisableUserns: sandboxSupport().bwrapDisablesUserns,
    });
    const h = await cliHarness(
      { steps: [{ spawnSleeper: marker }, { say: 'thinking' }, { silent: true }] },
      { limits: { stallMs: 1_500 }, runner },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'stalled' });
    expect(outcome.kind === 'failed' && outcome.message).toContain('said nothing for');
    expect(sleepers(marker)).toBe(0);
  });

  it('cancels a stream that goes silent after a command ended as stalled (not waiting out the command timeout)', async () => {
    // The command's end comes in a chunk of its own, read while the command still counts as running.
    const h = await cliHarness(
      { steps: [{ run: 'sleep 0.3' }, { silent: true }] },
      { limits: { stallMs: 1_500, commandTimeoutMs: 600_000 } },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'stalled' });
    expect(outcome.kind === 'failed' && outcome.message).toContain('said nothing for 2 s');
  });

  it('gives a session that wrote outside its scope one more turn saying so, and commits once it put them back', async () => {
    const h = await cliHarness({
      steps: [
        { write: 'src/greet.js', content: 'export const greet = () => 2;\n' },
        { write: 'README.md', content: 'mine\n' },
      ],
      resume: [{ run: 'git checkout -- README.md' }],
      resumeSummary: 'Kept to my scope.',
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'], summary: 'Kept to my scope.' });
    expect(h.spec.prompts[1]).toContain('outside your write scope: README.md');
  });

  it('never commits what stays outside the scope after that turn: the attempt fails as out-of-scope', async () => {
    const h = await cliHarness({
      steps: [{ write: 'src/greet.js' }, { write: 'README.md', content: 'mine\n' }],
      resume: [{ say: 'no' }],
    });
    expect(await h.run()).toMatchObject({ kind: 'failed', reason: 'out-of-scope' });
    expect(await readFile(join(h.repo, 'README.md'), 'utf8')).not.toBe('mine\n');
  });

  it('stops at the token budget with the figure named', async () => {
    const h = await cliHarness(
      {
        steps: [
          { write: 'src/greet.js', usage: { prompt: 600, completion: 100 } },
          { write: 'src/shout.js', usage: { prompt: 600, completion: 100 } },
          { write: 'src/other.js', usage: { prompt: 600, completion: 100 } },
        ],
      },
      { limits: { maxTokens: 1_000 }, subtask: { ...SHOUT_SUBTASK, writeScope: ['src/**'] } },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'token-budget' });
    expect(outcome.kind === 'failed' && outcome.message).toContain('1400 tokens (budget 1000)');
  });

  it('is cancelled by the run: the CLI stops at once and the attempt ends cancelled', async () => {
    const controller = new AbortController();
    const h = await cliHarness({ steps: [{ say: 'hello' }, { silent: true }] }, { signal: controller.signal });
    const running = h.run();
    await h.waitForEvent('model-call');
    controller.abort();
    expect(await running).toMatchObject({ kind: 'failed', reason: 'cancelled' });
  });
});
