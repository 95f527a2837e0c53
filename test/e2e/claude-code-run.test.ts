import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { demoModel, GREET, SHOUT_TEST } from '../../src/demo/demo-model.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { startScriptedServer } from '../../src/scripted-model/server.js';
import { anthropicSteps } from '../support/agent-steps.js';
import { captureOutput } from '../support/capture-output.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { tempDir } from '../support/temp-dir.js';

// `fanout run` and `fanout demo` with the real `claude` binary as every subtask's agent, in the
// bwrap sandbox, through the run's gateway to a scripted Anthropic server; the planner on the
// scripted OpenAI server.

const REAL_ANTHROPIC_KEY = 'sk-ant-e2e-real-key-5b7c9d1e3f5a7b9c';
const PLAN = {
  subtasks: [
    {
      id: 'shout',
      title: 'Add a shout option to greet',
      instructions: 'Give greet(name, options) an optional { shout: true } that upper-cases the greeting.',
      writeScope: ['src/greet.js', 'test/shout.test.js'],
      readScope: ['src/index.js'],
      dependsOn: [],
    },
  ],
};

afterEach(() => vi.unstubAllEnvs());

async function sampleRepository(config: string) {
  const repo = join(await tempDir('fanout-claude-run-'), 'greeter');
  await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': SAMPLE_FILES['.github/fanout.yml'] + config });
  return repo;
}

async function planner() {
  const server = await startScriptedServer({
    script: (request) =>
      request.body.response_format?.json_schema?.name === 'plan'
        ? { content: JSON.stringify(PLAN) }
        : demoModel(request),
  });
  const plans = () => server.requests.filter((request) => request.body.response_format?.json_schema?.name === 'plan');
  return { server, plans };
}

function stubEnvironment(values: Record<string, string>) {
  for (const [name, value] of Object.entries({
    OPENAI_API_KEY: 'scripted',
    FANOUT_MODEL: 'scripted-model',
    FANOUT_SANDBOX: 'bwrap',
    ...values,
  }))
    vi.stubEnv(name, value);
}

describeWithSandbox('claude-code as the agent of a whole run', 'bwrap', () => {
  it('`fanout run` with `agent: claude-code` merges its work; a write out of scope is refused while it runs', async () => {
    const repo = await sampleRepository('agent: claude-code\n');
    const { server } = await planner();
    const claude = await anthropicSteps();
    claude.play([
      { read: 'src/greet.js' },
      { write: 'README.md', content: 'mine\n' },
      { write: 'src/greet.js', content: GREET },
      { write: 'test/shout.test.js', content: SHOUT_TEST },
      { run: 'node --test' },
      { answer: 'greet(name, { shout: true }) upper-cases the greeting. Tests in test/shout.test.js.' },
    ]);
    stubEnvironment({
      OPENAI_BASE_URL: server.baseUrl,
      ANTHROPIC_BASE_URL: claude.upstreams.anthropic,
      ANTHROPIC_API_KEY: REAL_ANTHROPIC_KEY,
      FANOUT_STATE_DIR: join(await tempDir(), 'state'),
    });
    const output = captureOutput();

    const code = await main(['run', '--repo', repo, 'Add a shout option to greet'], output);
    await Promise.all([server.close(), claude.close()]);

    expect(code, output.stdout() + output.stderr()).toBe(0);
    expect(output.stdout()).toMatch(/shout\s+merged\s+#1\s+passed/);
    const show = (path: string) => execFileSync('git', ['show', `main:${path}`], { cwd: repo, encoding: 'utf8' });
    expect(show('src/greet.js')).toBe(GREET);
    expect(show('test/shout.test.js')).toBe(SHOUT_TEST);
    expect(show('README.md')).toBe(SAMPLE_FILES['README.md']);
    const [refusal, ...rest] = claude.toolResults().filter((result) => result.text.includes('write refused'));
    expect(refusal?.text).toContain(`"README.md" is outside this subtask's write scope`);
    expect(rest).toEqual([]);
    // The tests ran in Claude Code's shell, in the sandbox, and passed.
    expect(claude.toolResults().at(-1)?.text).toMatch(/pass 3/);
    for (const body of claude.sent()) expect(body).not.toContain(REAL_ANTHROPIC_KEY);
  }, 90_000);

  it('a run whose claude binary cannot be found is refused with the reason, before it is recorded or planned', async () => {
    const repo = await sampleRepository('agent: claude-code\n');
    const { server, plans } = await planner();
    stubEnvironment({
      OPENAI_BASE_URL: server.baseUrl,
      FANOUT_CLAUDE_CODE_PATH: '/nowhere/claude',
      FANOUT_STATE_DIR: join(await tempDir(), 'state'),
    });
    const output = captureOutput();

    const code = await main(['run', '--repo', repo, 'Add a shout option to greet'], output);
    await server.close();

    // Bad input (exit 2): nothing was recorded, nothing planned.
    expect(code).toBe(2);
    expect(output.stdout() + output.stderr()).toContain(
      'FANOUT_CLAUDE_CODE_PATH=/nowhere/claude is not an executable file.',
    );
    expect(plans()).toEqual([]);
  });

  it('`fanout demo --agent claude-code` shows it with scripted models when no key is set', async () => {
    stubEnvironment({ OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' });
    const output = captureOutput();

    expect(await main(['demo', '--agent', 'claude-code'], output)).toBe(0);

    const text = output.stdout();
    expect(text).toContain('No ANTHROPIC_API_KEY is set: Claude Code talks to a SCRIPTED Anthropic model');
    expect(text).toMatch(/PARTIAL \(2 of 3 merged into main\)/);
    expect(text).toMatch(/cli-validation\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/shout\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/changelog\s+failed: looping/);
  }, 90_000);
});
