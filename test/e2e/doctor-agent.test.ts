import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startScriptedAnthropicServer } from '../../src/scripted-model/anthropic-server.js';
import { answer } from '../../src/scripted-model/turns.js';
import { captureOutput } from '../support/capture-output.js';
import { describeWithSandbox } from '../support/require-sandbox.js';

const KEY = 'sk-ant-doctor-key-0a1b2c3d4e5f6a7b8c9d';

afterEach(() => vi.unstubAllEnvs());

async function doctor(env: Record<string, string>, ...flags: string[]) {
  for (const [name, value] of Object.entries({ FANOUT_SANDBOX: 'bwrap', ...env })) vi.stubEnv(name, value);
  const output = captureOutput();
  const code = await main(['doctor', '--agent', 'claude-code', ...flags], output);
  return { code, text: output.stdout() + output.stderr(), stdout: output.stdout() };
}

describeWithSandbox('fanout doctor --agent claude-code', 'bwrap', () => {
  it('finds the binary and its version, and makes one round trip through the gateway to the configured endpoint', async () => {
    const server = await startScriptedAnthropicServer({
      script: [answer('OK', { usage: { inputTokens: 900, outputTokens: 2 } })],
    });
    const { code, text } = await doctor({ ANTHROPIC_BASE_URL: server.baseUrl, ANTHROPIC_API_KEY: KEY });
    await server.close();

    expect(code, text).toBe(0);
    expect(text).toContain('The claude-code agent is ready (model claude-sonnet-5-5).');
    expect(text).toMatch(/ok {3}backend\s+\S+claude\S*, version 2\.1\.337/);
    expect(text).toContain(
      `ok   round trip         claude-sonnet-5-5 at ${server.baseUrl} answered "OK" through Fanout's gateway`,
    );
    expect(text).toMatch(/1 call, 902 tokens, \$0\.00\d+\)/);
    // The gateway put the real key on the call; Claude Code itself held only its credential.
    expect(server.requests[0]!.headers['x-api-key']).toBe(KEY);
    expect(JSON.stringify(server.requests[0]!.body)).not.toContain(KEY);
  });

  it("names what fails: the endpoint's refusal, or a binary that is not there (as JSON too)", async () => {
    const server = await startScriptedAnthropicServer({
      script: [{ error: { status: 401, message: 'invalid x-api-key' } }],
    });
    const refused = await doctor({ ANTHROPIC_BASE_URL: server.baseUrl, ANTHROPIC_API_KEY: KEY });
    await server.close();
    expect(refused.code).toBe(1);
    expect(refused.text).toContain(`FAIL round trip         claude-sonnet-5-5 at ${server.baseUrl}`);
    expect(refused.text).toContain('(HTTP 401)');

    const missing = await doctor({ FANOUT_CLAUDE_CODE_PATH: '/nowhere/claude' }, '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      ok: false,
      backend: 'claude-code',
      checks: [
        { name: 'sandbox', status: 'passed' },
        {
          name: 'backend',
          status: 'failed',
          detail: 'FANOUT_CLAUDE_CODE_PATH=/nowhere/claude is not an executable file.',
        },
        { name: 'round trip', status: 'skipped' },
      ],
    });
  });
});
