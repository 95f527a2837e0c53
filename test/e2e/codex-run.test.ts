import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { GREET, SHOUT_TEST } from '../../src/demo/demo-model.js';
import { startOpenAiFront } from '../../src/scripted-model/openai-front.js';
import { addFilePatch, replaceFilePatch } from '../../src/scripted-model/patches.js';
import { startScriptedResponsesServer } from '../../src/scripted-model/responses-server.js';
import { answer, toolCall } from '../../src/scripted-model/turns.js';
import { captureOutput } from '../support/capture-output.js';
import { REAL_KEYS } from '../support/gateway-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { responsesBrain } from '../support/responses-brain.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';

// `fanout run` and `fanout demo` with Codex as the agent: the real CLI commands, the real `codex`
// binary in the bubblewrap sandbox, the planner on a scripted chat model and Codex on a scripted
// Responses model, both behind one OPENAI_BASE_URL as OpenAI's are.

const exec = promisify(execFile);
const closers: Array<() => Promise<void>> = [];

describeWithSandbox('fanout run and fanout demo with agent: codex', 'bwrap', () => {
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it('plans, runs Codex per subtask through the gateway, and merges both pull requests', async () => {
    const root = await tempDir('fanout-codex-run-');
    const repo = join(root, 'repo');
    await createRepository(repo, {
      ...SAMPLE_FILES,
      '.github/fanout.yml': 'agent: codex\nvalidate:\n  - run: node --test\n    timeoutSeconds: 120\n',
    });
    const planner = scriptedBrain({
      plan: [
        { id: 'shout', title: 'Add a shout option', writeScope: ['src/greet.js', 'test/shout.test.js'] },
        { id: 'changelog', title: 'Note it in the changelog', writeScope: ['CHANGELOG.md'] },
      ],
      agents: {},
    });
    const { server: chat } = await scriptedLlm(planner.reply);
    const codex = responsesBrain({
      'Add a shout option': [
        toolCall('apply_patch', replaceFilePatch('src/greet.js', SAMPLE_FILES['src/greet.js']!, GREET)),
        toolCall('apply_patch', addFilePatch('test/shout.test.js', SHOUT_TEST)),
        toolCall('exec_command', { cmd: 'node --test' }),
        answer('greet(name, { shout: true }) shouts; tested.'),
      ],
      'Note it in the changelog': [
        toolCall(
          'apply_patch',
          replaceFilePatch('CHANGELOG.md', SAMPLE_FILES['CHANGELOG.md']!, '# Changelog\n\n## Unreleased\n- Shout.\n'),
        ),
        answer('Noted the shout option.'),
      ],
    });
    const responses = await startScriptedResponsesServer({ script: codex.reply });
    closers.push(responses.close);
    const front = await startOpenAiFront({ chat: new URL(chat.baseUrl).origin, responses: responses.origin });
    closers.push(front.close);
    vi.stubEnv('OPENAI_BASE_URL', front.baseUrl);
    vi.stubEnv('OPENAI_API_KEY', REAL_KEYS.openai);
    vi.stubEnv('FANOUT_MODEL', 'scripted-model');
    vi.stubEnv('FANOUT_STATE_DIR', join(root, 'state'));
    vi.stubEnv('FANOUT_SANDBOX', 'bwrap');
    const output = captureOutput();

    const code = await main(['run', '--repo', repo, '--json', 'Add a shout option and note it'], output);

    expect(code, output.stderr()).toBe(0);
    const report = JSON.parse(output.stdout()) as { subtasks: Array<{ id: string; merged?: string }> };
    expect(report.subtasks.map((subtask) => [subtask.id, Boolean(subtask.merged)])).toEqual([
      ['shout', true],
      ['changelog', true],
    ]);
    const { stdout: history } = await exec('git', ['log', '--format=%s', 'main'], { cwd: repo });
    expect(history).toContain('Add a shout option (#');
    expect(history).toContain('Note it in the changelog (#');
    // Codex asked for its own default model; the gateway put the real key on upstream, and only there.
    expect(responses.requests.length).toBeGreaterThanOrEqual(6);
    for (const call of responses.requests) {
      expect(call.body.model).toBe('gpt-5.5');
      expect(call.headers.authorization).toBe(`Bearer ${REAL_KEYS.openai}`);
      expect(JSON.stringify(call.body)).not.toContain(REAL_KEYS.openai);
    }
  });

  it('npm run demo -- --agent codex: Codex plays the demo on a scripted model when no key is set', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const output = captureOutput();

    expect(await main(['demo', '--agent', 'codex'], output)).toBe(0);

    const text = output.stdout();
    expect(text).toContain('No OPENAI_API_KEY is set: using a SCRIPTED model');
    expect(text).toContain('Agent: codex');
    expect(text).toMatch(/PARTIAL \(2 of 3 merged into main\)/);
    expect(text).toMatch(/cli-validation\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/shout\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/changelog\s+failed: looping/);
  });
});
