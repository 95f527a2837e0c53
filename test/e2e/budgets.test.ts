import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { RunReport } from '../../src/report/run-report.js';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-model/server.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { scriptedBrain, type BrainScript } from '../support/scripted-brain.js';
import { tempDir } from '../support/temp-dir.js';

// Budgets as users meet them: `fanout run` (and `fanout fix`) with the built-in agent through the
// real gateway, which meters what the scripted model reports and refuses the call past a budget.

const GREET = { id: 'greet', title: 'Greet politely', writeScope: ['src/greet.js'] };
const DOCS = { id: 'docs', title: 'Document the CLI', writeScope: ['README.md'] };
const writeGreet = (usage: { promptTokens: number; completionTokens: number }) =>
  call('write_file', { path: 'src/greet.js', content: 'export const greet = (n) => `Hello, ${n}!`;\n' }, { usage });
const finishing = (usage: { promptTokens: number; completionTokens: number }) => ({ ...finish('Done.'), usage });

const servers: ScriptedServer[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A sample repository with `config` as its .github/fanout.yml, a scripted model, and the CLI pointed at both. */
async function setUp(config: string, script: BrainScript) {
  const root = await tempDir('fanout-budgets-');
  const repo = join(root, 'repo');
  const { '.github/fanout.yml': _config, ...files } = SAMPLE_FILES;
  // No install and no validation: what is measured is the agents' model calls.
  await createRepository(repo, { ...files, '.github/fanout.yml': `setup: []\n${config}` });
  const brain = scriptedBrain(script);
  const server = await startScriptedServer({ script: brain.reply });
  servers.push(server);
  for (const [name, value] of Object.entries({
    FANOUT_STATE_DIR: join(root, 'state'),
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_API_KEY: 'test-key',
    FANOUT_MODEL: 'scripted-model',
    FANOUT_SANDBOX: 'none',
    FANOUT_ALLOW_ROOT_NONE: '1',
  }))
    vi.stubEnv(name, value);
  return { repo, brain };
}

async function cli(...argv: string[]) {
  const output = captureOutput();
  const code = await main(argv, output);
  return { code, stdout: output.stdout(), stderr: output.stderr() };
}

async function fanoutRun(repo: string) {
  const result = await cli('run', '--repo', repo, 'Polish the greeter');
  const runId = /^Run (\S+) on /m.exec(result.stdout)?.[1];
  expect(runId, result.stdout + result.stderr).toBeDefined();
  const report = JSON.parse((await cli('status', runId!, '--json')).stdout) as RunReport;
  const subtask = (id: string) => report.subtasks.find((candidate) => candidate.id === id)!;
  return { ...result, runId: runId!, report, subtask };
}

describe('budgets that hold across attempts, fixes and the whole run', () => {
  it('an agent past its token budget: the next call is refused at the gateway, the subtask fails as budget with the figure, no retry', async () => {
    const { repo, brain } = await setUp('budgets: { maxTokens: 1000 }\n', {
      plan: [GREET],
      agents: { 'Greet politely': [writeGreet({ promptTokens: 600, completionTokens: 500 }), finish()] },
    });

    const run = await fanoutRun(repo);

    const figure = 'Fanout budget reached: 1,100 of 1,000 tokens for this agent';
    expect(run.code).toBe(1);
    expect(run.subtask('greet')).toMatchObject({
      state: 'failed',
      attempts: 1,
      failure: { reason: 'budget', message: figure },
      cost: { usd: 0, unpricedModels: ['scripted-model'] },
    });
    // The finishing call never reached the model, and there was no second attempt.
    expect(brain.requestsFor('Greet politely')).toBe(1);
    expect(run.stdout).toContain(`- greet: budget: ${figure}`);
    expect(run.stdout).toContain('cost: cost unknown for scripted-model');
    const logs = await cli('logs', run.runId, 'greet');
    expect(logs.stdout).toMatch(/model-cost +scripted-model, 600\+500 tokens, cost unknown for scripted-model/);
    expect(logs.stdout).toMatch(new RegExp(`model-cost +refused: ${figure}`));
  });

  it('an agent past its dollar budget, at the prices the repository sets', async () => {
    const { repo, brain } = await setUp(
      'budgets: { maxUsd: 0.01 }\nprices:\n  scripted-model: { input: 10, output: 10 }\n',
      {
        plan: [GREET],
        agents: { 'Greet politely': [writeGreet({ promptTokens: 600, completionTokens: 500 }), finish()] },
      },
    );

    const run = await fanoutRun(repo);

    expect(run.subtask('greet')).toMatchObject({
      attempts: 1,
      failure: { reason: 'budget', message: 'Fanout budget reached: $0.011 of $0.01 for this agent' },
      cost: { usd: expect.closeTo(0.011, 10), unpricedModels: [] },
    });
    expect(run.report.cost?.usd).toBeCloseTo(0.011, 10);
    expect(brain.requestsFor('Greet politely')).toBe(1);
    expect(run.stdout).toMatch(/greet +failed: budget .* 1100 +\$0\.0110/);
    expect(run.stdout).toContain('cost: $0.0110');
  });

  it("the run's token budget, spent by its first agent, stops the second before its first call", async () => {
    const { repo, brain } = await setUp('maxAgents: 1\nrunBudgets: { maxTokens: 1000 }\n', {
      plan: [GREET, DOCS],
      agents: {
        'Greet politely': [
          writeGreet({ promptTokens: 300, completionTokens: 200 }),
          finishing({ promptTokens: 300, completionTokens: 300 }),
        ],
        'Document the CLI': [call('write_file', { path: 'README.md', content: '# greeter\n' }), finish()],
      },
    });

    const run = await fanoutRun(repo);

    expect(run.report.state).toBe('partial');
    expect(run.subtask('greet').merged).toBeDefined();
    expect(run.subtask('docs')).toMatchObject({
      state: 'failed',
      failure: { reason: 'budget', message: 'Fanout budget reached: 1,100 of 1,000 tokens for this run' },
    });
    expect(brain.requestsFor('Document the CLI')).toBe(0);
  });

  it("a fix attempt spends what is left of its subtask's budget, and its cost adds to the subtask's", async () => {
    const { repo, brain } = await setUp(
      'approval: manual\nbudgets: { maxTokens: 1000 }\nprices:\n  scripted-model: { input: 1, output: 1 }\n',
      {
        plan: [GREET],
        agents: {
          'Greet politely': [
            writeGreet({ promptTokens: 300, completionTokens: 200 }),
            finishing({ promptTokens: 200, completionTokens: 200 }),
          ],
        },
        fixes: {
          'Greet politely': [writeGreet({ promptTokens: 100, completionTokens: 100 }), finish('Documented.')],
        },
      },
    );
    const first = await fanoutRun(repo);
    expect(first.subtask('greet').waiting?.reason).toBe('review-required');
    expect(first.subtask('greet').cost?.usd).toBeCloseTo(0.0009, 10);

    const fixed = await cli('fix', first.runId, 'greet', 'Add a doc comment');

    const figure = 'Fanout budget reached: 1,100 of 1,000 tokens for this agent';
    expect(fixed.stdout).toMatch(new RegExp(`greet #1, asked by @\\S+: nothing pushed \\(${figure}\\)`));
    expect(brain.fixPromptsFor('Greet politely')).toHaveLength(1);
    const report = JSON.parse((await cli('status', first.runId, '--json')).stdout) as RunReport;
    expect(report.subtasks[0]!.cost?.usd).toBeCloseTo(0.0011, 10);
    expect(report.cost?.usd).toBeCloseTo(0.0011, 10);
  });

  it("the run's minutes: an agent still at work when they are up is stopped as budget, naming them", async () => {
    const { repo } = await setUp('runBudgets: { maxMinutes: 0.01 }\n', {
      plan: [GREET],
      agents: { 'Greet politely': [{ ...finish(), delayMs: 30_000 }] },
    });

    const run = await fanoutRun(repo);

    expect(run.subtask('greet').failure).toEqual({
      reason: 'budget',
      message: "Fanout budget reached: the run's 0.01 minutes (runBudgets.maxMinutes) are up",
    });
  });
});
