import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedAnthropicServer } from '../../src/scripted-model/anthropic-server.js';
import { anthropicToolResults } from '../../src/scripted-model/anthropic-wire.js';
import { startScriptedResponsesServer } from '../../src/scripted-model/responses-server.js';
import { responsesToolOutputs, responsesUserTexts } from '../../src/scripted-model/responses-wire.js';
import { answer, toolCall, type ScriptedUsage } from '../../src/scripted-model/turns.js';
import {
  claudeArguments,
  claudeBinary,
  claudeEnvironment,
  claudeSettings,
  codexArguments,
  codexBinary,
  codexEnvironment,
  runCli,
} from '../support/agent-clis.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { sampleRepo } from '../support/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

// The real `claude` and `codex` binaries (devDependencies at pinned versions), headless, as plain
// child processes in a temporary git repository with a private HOME, against the scripted model
// servers on loopback. No Fanout backend or sandbox yet: this pins down what the backends rely on.

const CREDENTIAL = 'fanout-agent-credential-1';
const usage = (inputTokens: number, outputTokens: number, cachedInputTokens = 0): ScriptedUsage => ({
  inputTokens,
  outputTokens,
  cachedInputTokens,
});
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A PreToolUse hook (a Node script) that logs what it sees and refuses any call that mentions `marker`. */
async function scopeHook(dir: string, marker: string) {
  const script = join(dir, 'scope-hook.mjs');
  const log = join(dir, 'hook-calls.jsonl');
  await writeFile(
    script,
    `import { appendFileSync, readFileSync } from 'node:fs';
const input = readFileSync(0, 'utf8');
appendFileSync(${JSON.stringify(log)}, input.trim() + '\\n');
const call = JSON.parse(input);
if (JSON.stringify(call.tool_input ?? {}).includes(${JSON.stringify(marker)})) {
  const reason = 'Fanout: ${marker} is outside your write scope (src/**); leave it alone.';
  process.stdout.write(JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } }));
}
`,
  );
  const calls = async () =>
    (await readFile(log, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { tool_name: string; tool_input: Record<string, unknown> });
  return { command: `${process.execPath} ${script}`, calls, reason: `Fanout: ${marker} is outside your write scope` };
}

async function workspace() {
  const { repo } = await sampleRepo();
  return { repo, home: await tempDir('fanout-agent-home-') };
}

describe('claude (Claude Code), headless against the scripted Anthropic server', () => {
  const MODEL = 'claude-scripted-1';

  async function claude(script: Parameters<typeof startScriptedAnthropicServer>[0]['script']) {
    const server = await startScriptedAnthropicServer({ script });
    closers.push(server.close);
    return server;
  }

  it('writes a file, runs a command, and ends with a result carrying the usage the server reported', async () => {
    const { repo, home } = await workspace();
    const server = await claude([
      toolCall(
        'Write',
        { file_path: join(repo, 'src/hello.txt'), content: 'hello from the script\n' },
        { usage: usage(100, 10) },
      ),
      toolCall(
        'Bash',
        { command: 'cp src/hello.txt copy.txt && echo "copied: $(cat copy.txt)"' },
        { usage: usage(200, 20) },
      ),
      answer('Wrote src/hello.txt and copied it.', { usage: usage(300, 30, 40) }),
    ]);

    const run = await runCli(
      claudeBinary(),
      claudeArguments({ prompt: 'Write src/hello.txt.', model: MODEL, settings: claudeSettings() }),
      { cwd: repo, env: await claudeEnvironment({ home, baseUrl: server.baseUrl, apiKey: CREDENTIAL }) },
    );

    expect(run.code).toBe(0);
    expect(await readFile(join(repo, 'src/hello.txt'), 'utf8')).toBe('hello from the script\n');
    expect(await readFile(join(repo, 'copy.txt'), 'utf8')).toBe('hello from the script\n');
    // The command's real output went back to the model.
    expect(anthropicToolResults(server.requests[2]!.body)).toEqual([
      expect.objectContaining({ text: 'copied: hello from the script', isError: false }),
    ]);
    expect(server.remaining()).toBe(0);
    for (const call of server.requests) {
      expect(call.headers['x-api-key']).toBe(CREDENTIAL);
      expect(call.body).toMatchObject({ model: MODEL, stream: true });
    }
    const result = run.events.at(-1)!;
    expect(result).toMatchObject({
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'Wrote src/hello.txt and copied it.',
      num_turns: 3,
      usage: { input_tokens: 600, output_tokens: 60, cache_read_input_tokens: 40 },
      modelUsage: { [MODEL]: { inputTokens: 600, outputTokens: 60, cacheReadInputTokens: 40 } },
    });
    expect(result.total_cost_usd).toBeGreaterThan(0);
    expect(run.events[0]).toMatchObject({
      type: 'system',
      subtype: 'init',
      tools: ['Bash', 'Edit', 'Glob', 'Grep', 'Read', 'Write'],
    });
  });

  it('refuses an out-of-scope write through a PreToolUse hook, and a resumed session carries one more message', async () => {
    const { repo, home } = await workspace();
    const hook = await scopeHook(home, 'secrets/');
    const server = await claude([
      toolCall('Write', { file_path: join(repo, 'secrets/key.txt'), content: 'nope\n' }),
      answer('I could not write secrets/key.txt.'),
      answer('Understood: I leave secrets/ alone.'),
    ]);
    const env = await claudeEnvironment({ home, baseUrl: server.baseUrl, apiKey: CREDENTIAL });
    const settings = claudeSettings({
      PreToolUse: [{ matcher: 'Write|Edit|NotebookEdit|Bash', hooks: [{ type: 'command', command: hook.command }] }],
    });

    const first = await runCli(claudeBinary(), claudeArguments({ prompt: 'Write the key.', model: MODEL, settings }), {
      cwd: repo,
      env,
    });

    expect(first.code).toBe(0);
    expect(existsSync(join(repo, 'secrets/key.txt'))).toBe(false);
    expect(await hook.calls()).toEqual([
      expect.objectContaining({
        tool_name: 'Write',
        tool_input: expect.objectContaining({ file_path: join(repo, 'secrets/key.txt') }),
      }),
    ]);
    // The model reads the refusal as the tool's (failed) result, while the session still runs.
    const [refusal] = anthropicToolResults(server.requests[1]!.body);
    expect(refusal).toMatchObject({ isError: true });
    expect(refusal!.text).toContain(hook.reason);
    const sessionId = first.events.at(-1)!.session_id as string;

    const second = await runCli(
      claudeBinary(),
      claudeArguments({
        prompt: 'Fanout: secrets/key.txt was not committed.',
        model: MODEL,
        settings,
        resume: sessionId,
      }),
      { cwd: repo, env },
    );

    expect(second.code).toBe(0);
    expect(second.events.at(-1)).toMatchObject({
      type: 'result',
      session_id: sessionId,
      result: 'Understood: I leave secrets/ alone.',
    });
    const resumed = server.requests[2]!.body.messages;
    expect(JSON.stringify(resumed)).toContain(hook.reason);
    expect(resumed.at(-1)).toMatchObject({
      role: 'user',
      content: [expect.objectContaining({ text: 'Fanout: secrets/key.txt was not committed.' })],
    });
  });

  it('makes no request to any host but its base URL', async () => {
    const { repo, home } = await workspace();
    const server = await claude([answer('Nothing to do.')]);
    const proxy = await startRecordingProxy();
    closers.push(proxy.close);
    const env = await claudeEnvironment({ home, baseUrl: server.baseUrl, apiKey: CREDENTIAL });

    const run = await runCli(
      claudeBinary(),
      claudeArguments({ prompt: 'Hi.', model: MODEL, settings: claudeSettings() }),
      {
        cwd: repo,
        env: { ...env, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: proxy.url, https_proxy: proxy.url },
      },
    );

    expect(run.code).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(proxy.requests.filter((request) => !request.target.startsWith(server.baseUrl))).toEqual([]);
  });
});

describe('codex (Codex CLI), headless against the scripted Responses server', () => {
  const MODEL = 'gpt-5.5'; // a model Codex knows, so it declares apply_patch as it would in use

  async function codexServer(script: Parameters<typeof startScriptedResponsesServer>[0]['script']) {
    const server = await startScriptedResponsesServer({ script });
    closers.push(server.close);
    return server;
  }

  it('applies a patch that adds a file, runs a command, and reports the usage the server reported', async () => {
    const { repo, home } = await workspace();
    const patch = '*** Begin Patch\n*** Add File: src/hello.txt\n+hello from the script\n*** End Patch\n';
    const server = await codexServer([
      toolCall('apply_patch', patch, { usage: usage(100, 10) }),
      toolCall(
        'exec_command',
        { cmd: 'cp src/hello.txt copy.txt && echo "copied: $(cat copy.txt)"' },
        { usage: usage(200, 20) },
      ),
      answer('Wrote src/hello.txt and copied it.', { usage: usage(300, 30, 40) }),
    ]);

    const run = await runCli(
      codexBinary(),
      codexArguments({ prompt: 'Write src/hello.txt.', model: MODEL, baseUrl: server.baseUrl }),
      { cwd: repo, env: await codexEnvironment({ home, apiKey: CREDENTIAL }) },
    );

    expect(run.code).toBe(0);
    expect(await readFile(join(repo, 'src/hello.txt'), 'utf8')).toBe('hello from the script\n');
    expect(await readFile(join(repo, 'copy.txt'), 'utf8')).toBe('hello from the script\n');
    expect(responsesToolOutputs(server.requests[2]!.body).at(-1)!.text).toContain('copied: hello from the script');
    expect(server.remaining()).toBe(0);
    for (const call of server.requests) {
      expect(call.headers.authorization).toBe(`Bearer ${CREDENTIAL}`);
      expect(call.body).toMatchObject({ model: MODEL, stream: true });
    }
    const completed = run.events.filter((event) => event.type === 'item.completed').map((event) => event.item);
    expect(completed).toEqual([
      expect.objectContaining({ type: 'file_change', changes: [{ path: join(repo, 'src/hello.txt'), kind: 'add' }] }),
      expect.objectContaining({
        type: 'command_execution',
        exit_code: 0,
        aggregated_output: 'copied: hello from the script\n',
      }),
      expect.objectContaining({ type: 'agent_message', text: 'Wrote src/hello.txt and copied it.' }),
    ]);
    expect(run.events.at(-1)).toEqual({
      type: 'turn.completed',
      usage: expect.objectContaining({ input_tokens: 600, cached_input_tokens: 40, output_tokens: 60 }),
    });
  });

  it('refuses an out-of-scope patch through a PreToolUse hook, and `exec resume` carries one more message', async () => {
    const { repo, home } = await workspace();
    const hook = await scopeHook(home, 'secrets/');
    const server = await codexServer([
      toolCall('apply_patch', '*** Begin Patch\n*** Add File: secrets/key.txt\n+nope\n*** End Patch\n'),
      answer('I could not write secrets/key.txt.'),
      answer('Understood: I leave secrets/ alone.'),
    ]);
    const env = await codexEnvironment({ home, apiKey: CREDENTIAL });
    const hooks = {
      PreToolUse: [{ matcher: 'apply_patch|Bash', hooks: [{ type: 'command', command: hook.command }] }],
    };

    const first = await runCli(
      codexBinary(),
      codexArguments({ prompt: 'Write the key.', model: MODEL, baseUrl: server.baseUrl, hooks }),
      { cwd: repo, env },
    );

    expect(first.code).toBe(0);
    expect(existsSync(join(repo, 'secrets/key.txt'))).toBe(false);
    expect(await hook.calls()).toEqual([
      expect.objectContaining({
        tool_name: 'apply_patch',
        tool_input: { command: expect.stringContaining('secrets/key.txt') },
      }),
    ]);
    expect(responsesToolOutputs(server.requests[1]!.body).at(-1)!.text).toContain(hook.reason);
    // A refused call leaves no item in the JSON stream: the hook is the only witness.
    expect(first.events.some((event) => JSON.stringify(event).includes('file_change'))).toBe(false);
    const threadId = first.events[0]!.thread_id as string;

    const second = await runCli(
      codexBinary(),
      codexArguments({
        prompt: 'Fanout: secrets/key.txt was not committed.',
        model: MODEL,
        baseUrl: server.baseUrl,
        resume: threadId,
      }),
      { cwd: repo, env },
    );

    expect(second.code).toBe(0);
    expect(second.events[0]).toEqual({ type: 'thread.started', thread_id: threadId });
    expect(second.events).toContainEqual({
      type: 'item.completed',
      item: expect.objectContaining({ type: 'agent_message', text: 'Understood: I leave secrets/ alone.' }),
    });
    const resumed = server.requests[2]!.body;
    expect(responsesToolOutputs(resumed).at(-1)!.text).toContain(hook.reason);
    expect(responsesUserTexts(resumed).at(-1)).toBe('Fanout: secrets/key.txt was not committed.');
  });

  it('makes no request to any host but its base URL', async () => {
    const { repo, home } = await workspace();
    const server = await codexServer([answer('Nothing to do.')]);
    const proxy = await startRecordingProxy();
    closers.push(proxy.close);
    const env = await codexEnvironment({ home, apiKey: CREDENTIAL });

    const run = await runCli(codexBinary(), codexArguments({ prompt: 'Hi.', model: MODEL, baseUrl: server.baseUrl }), {
      cwd: repo,
      env: { ...env, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: proxy.url, https_proxy: proxy.url },
    });

    expect(run.code).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(proxy.requests.filter((request) => !request.target.startsWith(server.baseUrl))).toEqual([]);
  });
});
