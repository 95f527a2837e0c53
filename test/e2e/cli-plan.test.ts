import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-model/server.js';
import { captureOutput } from '../support/capture-output.js';
import { tempDir } from '../support/temp-dir.js';

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
