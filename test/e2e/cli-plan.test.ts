import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { startScriptedAnthropicServer } from '../../src/scripted-model/anthropic-server.js';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-model/server.js';
import { toolCall } from '../../src/scripted-model/turns.js';
import { captureOutput } from '../support/capture-output.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);

const PLAN = {
  subtasks: [
    {
      id: 'cli',
      title: 'Validate input',
      instructions: 'Validate the name.',
      writeScope: ['src/cli.js'],
      readScope: [],
      dependsOn: [],
    },
    {
      id: 'docs',
      title: 'Document it',
      instructions: 'Update the README.',
      writeScope: ['README.md'],
      readScope: [],
      dependsOn: ['cli'],
    },
  ],
};

describe('fanout plan', () => {
  let server: ScriptedServer;
  beforeEach(async () => {
    server = await startScriptedServer({ script: [{ content: JSON.stringify(PLAN) }] });
    vi.stubEnv('OPENAI_BASE_URL', server.baseUrl);
    vi.stubEnv('OPENAI_API_KEY', 'test');
    vi.stubEnv('FANOUT_MODEL', 'scripted-model');
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('prints the plan as a table', async () => {
    const repo = await tempDir();
    await createRepository(repo);
    const output = captureOutput();
    const code = await main(['plan', '--repo', repo, 'Validate', 'the', 'CLI'], output);
    expect(output.stderr()).toBe('');
    expect(code).toBe(0);
    expect(output.stdout()).toMatch(/#\s+id\s+title\s+writes\s+after/);
    expect(output.stdout()).toMatch(/2\s+docs\s+Document it\s+README\.md\s+cli/);
    expect(server.requests[0]!.body.messages[1]!.content).toContain('Task:\nValidate the CLI');
  });

  it('prints JSON with --json', async () => {
    const repo = await tempDir();
    await createRepository(repo);
    const output = captureOutput();
    expect(await main(['plan', '--repo', repo, '--json', 'Validate the CLI'], output)).toBe(0);
    const printed = JSON.parse(output.stdout());
    expect(printed.plan.subtasks.map((s: { id: string }) => s.id)).toEqual(['cli', 'docs']);
    expect(printed.baseCommit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('takes maxSubtasks from .github/fanout.yml', async () => {
    const repo = await tempDir();
    await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'maxSubtasks: 3\n' });
    await main(['plan', '--repo', repo, 'x'], captureOutput());
    expect(server.requests[0]!.body.messages[0]!.content).toContain('At most 3 subtasks');
  });

  it('exits 2 with a clear message on bad input', async () => {
    const notRepo = await tempDir();
    const cases: Array<[string[], RegExp]> = [
      [['plan', '--repo', notRepo], /a task is required/],
      [['plan', '--repo', notRepo, 'task'], /has no commit "HEAD"/],
      [['plan', '--bogus', 'task'], /unknown option --bogus\./],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['toString'], /unknown command "toString"/],
    ];
    for (const [argv, message] of cases) {
      const output = captureOutput();
      expect(await main(argv, output)).toBe(2);
      expect(output.stderr()).toMatch(message);
    }
  });

  it('exits 2 naming the bad key of an invalid .github/fanout.yml', async () => {
    const repo = await tempDir();
    await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'maxSubtasks: lots\napproval: sometimes\n' });
    const output = captureOutput();
    expect(await main(['plan', '--repo', repo, 'x'], output)).toBe(2);
    expect(output.stderr()).toContain('.github/fanout.yml is invalid');
    expect(output.stderr()).toContain('- maxSubtasks:');
    expect(output.stderr()).toContain('- approval:');
  });
});

describe('fanout plan and doctor with only ANTHROPIC_API_KEY', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs with Claude: it plans, and drives the built-in agent through the gateway, which alone holds the key', async () => {
    const greeting = {
      subtasks: [
        {
          id: 'greeting',
          title: 'Greeting',
          instructions: 'Write greeting.txt.',
          writeScope: ['greeting.txt'],
          readScope: [],
          dependsOn: [],
        },
      ],
    };
    const claude = await startScriptedAnthropicServer({
      script: (call) => {
        const tools = call.body.tools?.map((tool) => tool.name) ?? [];
        if (tools.includes('plan')) return toolCall('plan', greeting);
        if (tools.includes('record_sum')) return toolCall('record_sum', { a: 17, b: 25, sum: 42 });
        if (tools.includes('probe_answer')) return toolCall('probe_answer', { word: 'fanout', letters: 6 });
        const turn = call.body.messages.filter((message) => message.role === 'assistant').length;
        return turn === 0
          ? toolCall('write_file', { path: 'greeting.txt', content: 'hello\n' })
          : toolCall('finish', { summary: 'Wrote greeting.txt.' });
      },
      models: ['claude-sonnet-5-5'],
    });
    try {
      const root = await tempDir('fanout-claude-run-');
      const repo = join(root, 'repo');
      await createRepository(repo);
      for (const unset of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'FANOUT_MODEL']) vi.stubEnv(unset, '');
      vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-only');
      vi.stubEnv('ANTHROPIC_BASE_URL', claude.baseUrl);
      vi.stubEnv('FANOUT_STATE_DIR', join(root, 'state'));
      vi.stubEnv('FANOUT_SANDBOX', 'none');
      vi.stubEnv('FANOUT_ALLOW_ROOT_NONE', '1');
      const output = captureOutput();
      expect(await main(['run', '--repo', repo, 'Write a greeting'], output), output.stdout()).toBe(0);
      expect(output.stdout().split('\n')[0]).toMatch(
        /^Run \S+ on .+ \(main at [0-9a-f]{8}\): builtin agents, planned by claude-sonnet-5-5 \(Anthropic\)$/,
      );
      expect(output.stdout()).toContain('Agents: builtin');
      const { stdout } = await exec('git', ['show', 'main:greeting.txt'], { cwd: repo });
      expect(stdout).toBe('hello\n');
      // The planner called with the key; the agent with a credential of its own, the gateway put the key on.
      const agentCalls = claude.requests.filter((request) =>
        request.body.tools?.some((tool) => tool.name === 'finish'),
      );
      expect(agentCalls.length).toBeGreaterThanOrEqual(2);
      for (const request of agentCalls) {
        expect(request.headers['x-api-key']).toBe('sk-ant-only');
        expect(request.headers.authorization).toBeUndefined();
        expect(request.body.model).toBe('claude-sonnet-5-5');
      }
    } finally {
      await claude.close();
    }
  });

  it('plans with Claude (the default Sonnet, FANOUT_MODEL unset) and doctor checks that model', async () => {
    const claude = await startScriptedAnthropicServer({
      script: [
        toolCall('plan', PLAN),
        toolCall('record_sum', { a: 17, b: 25, sum: 42 }),
        toolCall('probe_answer', { word: 'fanout', letters: 6 }),
      ],
      models: ['claude-sonnet-5-5'],
    });
    try {
      for (const unset of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'FANOUT_MODEL']) vi.stubEnv(unset, '');
      vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-only');
      vi.stubEnv('ANTHROPIC_BASE_URL', claude.baseUrl);
      const repo = await tempDir();
      await createRepository(repo);
      const planned = captureOutput();
      expect(await main(['plan', '--repo', repo, '--json', 'Validate the CLI'], planned)).toBe(0);
      expect(JSON.parse(planned.stdout()).plan.subtasks.map((s: { id: string }) => s.id)).toEqual(['cli', 'docs']);
      expect(claude.requests[0]!.body.model).toBe('claude-sonnet-5-5');
      expect(claude.requests[0]!.headers.authorization).toBe('Bearer sk-ant-only');

      const doctor = captureOutput();
      expect(await main(['doctor'], doctor)).toBe(0);
      expect(doctor.stdout()).toContain(
        `Model "claude-sonnet-5-5" (Anthropic) at ${claude.baseUrl} is ready for agents.`,
      );
      expect(claude.requests.map((request) => request.body.model)).toEqual([
        'claude-sonnet-5-5',
        'claude-sonnet-5-5',
        'claude-sonnet-5-5',
      ]);
    } finally {
      await claude.close();
    }
  });
});
