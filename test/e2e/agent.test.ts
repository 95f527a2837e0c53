import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { DEFAULT_LIMITS } from '../../src/agent/limits.js';
import { storeReporter } from '../../src/agent/reporter.js';
import { runAgent } from '../../src/agent/run-agent.js';
import { worktreePool } from '../../src/agent/run-subtask.js';
import type { AgentTool } from '../../src/agent/tools/define-tool.js';
import { BUILTIN_TOOLS } from '../../src/agent/tools/index.js';
import { agentHarness, SHOUT_SUBTASK } from '../support/agent-harness.js';
import { heldWorktrees } from '../support/worktree-slots.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { toolSandbox } from '../support/tool-context.js';
import { call, finish } from '../support/agent-replies.js';

/** Megabytes of one answer, as fast as the client reads, never ending. */
const ENDLESS: ScriptedReply = { endless: { pieceChars: 64 * 1024, everyMs: 0 } };

const exec = promisify(execFile);
const NEW_GREET =
  'export function greet(name, options = {}) {\n  const text = `Hello, ${name}!`;\n  return options.shout ? text.toUpperCase() : text;\n}\n';
const SHOUT_TEST =
  "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\n\ntest('shouts', () => {\n  assert.equal(greet('Ada', { shout: true }), 'HELLO, ADA!');\n});\n";
const lastUserMessage = (messages: Array<{ role: string; content?: string | null }>) =>
  messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

describe('the built-in agent, end to end', () => {
  it('reads, writes, runs the tests, finishes, and its in-scope work is committed on its branch', async () => {
    const h = await agentHarness([
      call('list_directory', { path: '.' }),
      call('read_file', { path: 'src/greet.js' }),
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }, { argumentChunkSize: 7 }),
      call('write_file', { path: 'test/shout.test.js', content: SHOUT_TEST }),
      call('run_command', { command: "node --test 2>&1 | grep -E '^# (pass|fail) '" }),
      finish('Added a shout option to greet, with a test.'),
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({
      kind: 'succeeded',
      branch: 'fanout/run1/shout',
      files: ['src/greet.js', 'test/shout.test.js'],
      attempts: 1,
      steps: 6,
    });
    const { stdout } = await exec('git', ['show', 'fanout/run1/shout:src/greet.js'], { cwd: h.repo });
    expect(stdout).toBe(NEW_GREET);
    // The subtask's instructions and scopes reach the model verbatim.
    const first = h.server.requests[0]!.body.messages[1]!.content!;
    expect(first).toContain(h.subtask.instructions);
    expect(first).toContain('- src/greet.js\n- test/shout.test.js');
    expect(first).toContain('Repository files (you need not list directories to find these):\n');
    expect(first).toContain('test/greet.test.js');
    // The test run's real result went back to the model.
    const toolResult = h.server.requests[5]!.body.messages.at(-1)!.content!;
    expect(toolResult).toMatch(/^exit code 0/);
    expect(toolResult).toContain('# pass 2\n# fail 0');
    // Events are in the store with a gapless sequence; the worktree is gone.
    const events = await h.store.readEvents('run1', 'shout-1');
    expect(events.map((event) => event.seq)).toEqual(events.map((_, n) => n + 1));
    expect(events.map((event) => event.type)).toContain('committed');
    expect(await heldWorktrees(join(h.root, 'worktrees'))).toEqual([]);
    expect(await h.store.getSubtask('run1', 'shout')).toMatchObject({ step: 6, lastTool: 'finish' });
  });

  it("catches the seed's failure: a list_directory loop is hinted, cancelled as looping, and retried with a hint", async () => {
    const loop = call('list_directory', { path: '.' });
    const h = await agentHarness([
      loop,
      loop,
      loop,
      loop,
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
      finish(),
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', attempts: 2 });
    expect(lastUserMessage(h.server.requests[3]!.body.messages)).toContain(
      '[fanout] You have made the same list_directory call 3 times in a row',
    );
    const firstEvents = await h.store.readEvents('run1', 'shout-1');
    expect(firstEvents.at(-1)).toMatchObject({ type: 'agent-failed', data: { reason: 'looping' } });
    expect(h.server.requests[4]!.body.messages[1]!.content).toContain(
      'The previous attempt was cancelled for repeating the same call (list_directory {"path":"."})',
    );
  });

  it("retries, without a hint to the model, when Fanout's own machinery fails an attempt", async () => {
    let creations = 0;
    const h = await agentHarness([call('write_file', { path: 'src/greet.js', content: NEW_GREET }), finish()], {
      workspace: (git) =>
        Object.assign(Object.create(git) as GitWorkspace, {
          acquireWorktree: async (request: Parameters<GitWorkspace['acquireWorktree']>[0]) => {
            creations += 1;
            if (creations === 1) throw new Error("fatal: could not create directory of '.git/worktrees/shout-1'");
            return git.acquireWorktree(request);
          },
        }),
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', attempts: 2 });
    expect(h.server.requests[0]!.body.messages[1]!.content).not.toContain('previous attempt');
    expect(await heldWorktrees(join(h.root, 'worktrees'))).toEqual([]);
  });

  it('cancels an agent that never changes a file as no-progress', async () => {
    const reads: ScriptedReply[] = Array.from({ length: 6 }, (_, n) =>
      call('read_file', { path: n % 2 ? 'src/greet.js' : 'README.md', startLine: 1, endLine: n + 1 }),
    );
    const h = await agentHarness(reads, {
      limits: { noProgressHintAfter: 3, noProgressCancelAfter: 5 },
      maxAttempts: 1,
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'no-progress', attempts: 1, steps: 5 });
    expect(lastUserMessage(h.server.requests[3]!.body.messages)).toContain('3 steps have passed without a file change');
  });

  it('refuses path escapes and out-of-scope writes, and the model is told why', async () => {
    const h = await agentHarness([
      call('write_file', { path: '../escaped.txt', content: 'x' }),
      call('write_file', { path: 'README.md', content: 'x' }),
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
      finish(),
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'] });
    expect(h.server.requests[1]!.body.messages.at(-1)!.content).toContain(
      'error: "../escaped.txt" leaves the repository',
    );
    expect(h.server.requests[2]!.body.messages.at(-1)!.content).toContain(
      'write refused: "README.md" is outside this subtask\'s write scope (allowed: src/greet.js, test/shout.test.js)',
    );
    await expect(stat(join(h.root, 'escaped.txt'))).rejects.toThrow();
  });

  it('discards work that strays out of scope through a command, names the paths, and retries', async () => {
    const h = await agentHarness([
      call('run_command', { command: 'echo sneaky > package.json' }),
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
      finish(),
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
      finish(),
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', attempts: 2, files: ['src/greet.js'] });
    expect(h.server.requests[3]!.body.messages[1]!.content).toContain(
      'changed files outside its write scope (package.json)',
    );
  });

  it("cancels the seed's alternating `.`, `./`, `src/..` listing as looping within 4 model calls", async () => {
    const paths = ['.', './', 'src/..', '.', './', 'src/..', '.', './', 'src/..', '.', './', 'src/..', '.'];
    const h = await agentHarness(
      paths.map((path) => call('list_directory', { path })),
      { maxAttempts: 1 },
    );
    expect(await h.run()).toMatchObject({ kind: 'failed', reason: 'looping', steps: 4 });
    expect(h.server.requests).toHaveLength(4);
  });

  it('hands its worktree back clean when the file tools wrote a file git ignores, though no command ran', async () => {
    const h = await agentHarness(
      [
        call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
        call('write_file', { path: 'src/greet.log', content: 'ignored\n' }),
        finish(),
      ],
      {
        maxAttempts: 1,
        files: { '.gitignore': '*.log\n' },
        subtask: { ...SHOUT_SUBTASK, writeScope: ['src/**'] },
      },
    );
    expect(await h.run()).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'] });
    const next = await h.workspace.acquireWorktree({
      repoDir: h.repo,
      poolRoot: worktreePool(join(h.root, 'worktrees')),
      branch: null,
      commit: h.baseCommit,
    });
    expect(existsSync(join(next.path, 'src', 'greet.log'))).toBe(false);
    expect(await readFile(join(next.path, 'src', 'greet.js'), 'utf8')).not.toBe(NEW_GREET);
    await h.workspace.releaseWorktree(next);
    await h.workspace.settled();
  });

  it('counts files a command changed (sed -i, git mv): the tool says so, finish is accepted, and the change is committed', async () => {
    const h = await agentHarness(
      [call('run_command', { command: "sed -i 's/Hello/Hi/' src/greet.js" }), finish('Changed the greeting with sed.')],
      { maxAttempts: 1 },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'], steps: 2 });
    expect(h.server.requests[1]!.body.messages.at(-1)!.content).toContain(
      '--- files this command changed ---\nsrc/greet.js',
    );
    expect(
      h.server.requests.flatMap((request) => request.body.messages.map((message) => message.content ?? '')),
    ).not.toContain(expect.stringContaining('you have not changed any file yet'));
  });

  it('an answer with no choice in it (an empty or foreign body) is a model-error, streamed or not, not three failing tool calls', async () => {
    for (const [rawBody, says] of [
      ['{}', 'answered without a choice'],
      ['{"choices":[]}', 'answered without a choice'],
      ['{"error":"upstream said no"}', 'upstream said no'],
    ]) {
      const h = await agentHarness([{ rawBody: rawBody! }], { maxAttempts: 1 });
      const outcome = await h.run();
      expect(outcome).toMatchObject({ kind: 'failed', reason: 'model-error' });
      expect(outcome.kind === 'failed' && outcome.message).toContain(says);
      expect(h.server.requests).toHaveLength(1);
    }
  });

  it('an answer without end is the agent failing as model-error, cut off at the byte cap each time it is asked', async () => {
    const h = await agentHarness([call('read_file', { path: 'README.md' }), ...Array(3).fill(ENDLESS)], {
      maxAttempts: 1,
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'model-error', steps: 2 });
    expect(outcome.kind === 'failed' && outcome.message).toContain('sent an answer larger than 1000000 bytes');
    // The first call, then the endless one asked again per the retries (2 in the harness), each cut off.
    await h.server.endlessEnded();
    expect(h.server.requests.slice(1).map((request) => request.sent?.closedByClient)).toEqual([true, true, true]);
  });

  it('cancels three failing tool calls in a row as error-streak', async () => {
    const h = await agentHarness(
      [
        call('read_file', { path: 'missing-1' }),
        call('edit_file', { path: 'src/greet.js', oldText: 'nope', newText: '' }),
        call('read_file', {}),
      ],
      { maxAttempts: 1 },
    );
    expect(await h.run()).toMatchObject({ kind: 'failed', reason: 'error-streak', steps: 3 });
  });

  it('cancels a stalled model call as stalled, without waiting for the HTTP timeout', async () => {
    const h = await agentHarness([call('read_file', { path: 'README.md' }), { hang: true }], {
      limits: { stallMs: 400 },
      maxAttempts: 1,
    });
    const started = Date.now();
    expect(await h.run()).toMatchObject({ kind: 'failed', reason: 'stalled', steps: 2 });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('fails at once with model-error when the endpoint dies mid-run', async () => {
    const h = await agentHarness(
      async (request) => {
        if (request.index === 0) return call('read_file', { path: 'README.md' });
        await h.server.close();
        return { hang: true };
      },
      { maxAttempts: 1 },
    );
    const started = Date.now();
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'model-error' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('keeps the conversation bounded and counts tokens per step from the usage figures', async () => {
    const big = 'x'.repeat(3_000);
    const steps: ScriptedReply[] = [];
    for (let n = 0; n < 50; n += 1) {
      steps.push(
        n % 2 === 0
          ? call('write_file', { path: 'src/greet.js', content: `// ${n}\n${big}\n` })
          : call('read_file', { path: 'src/greet.js', startLine: 1, endLine: 2 + n }),
      );
    }
    steps.push(finish());
    const h = await agentHarness(
      steps.map((reply) => reply),
      { limits: { maxSteps: 60 }, maxAttempts: 1 },
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', steps: 51 });
    const promptSize = (index: number) => JSON.stringify(h.server.requests[index]!.body.messages).length;
    expect(promptSize(49) / promptSize(9)).toBeLessThan(2);
    const events = await h.store.readEvents('run1', 'shout-1');
    const perStep = events
      .filter((event) => event.type === 'model-call')
      .map((event) => (event.data.usage as { promptTokens: number }).promptTokens);
    expect(perStep).toHaveLength(51);
    expect(outcome.kind === 'succeeded' && outcome.tokens.prompt).toBe(perStep.reduce((sum, value) => sum + value, 0));
  });

  it('stops at the step, token and wall-time budgets', async () => {
    const busy = (n: number): ScriptedReply =>
      n % 2 === 0
        ? call('write_file', { path: 'src/greet.js', content: `// ${n}\n` })
        : call('read_file', { path: 'src/greet.js' });
    const steps = await agentHarness((request) => busy(request.index), { limits: { maxSteps: 5 }, maxAttempts: 1 });
    expect(await steps.run()).toMatchObject({ kind: 'failed', reason: 'step-budget', steps: 5 });
    const tokens = await agentHarness(
      (request) => ({ ...busy(request.index), usage: { promptTokens: 400, completionTokens: 100 } }),
      { limits: { maxTokens: 1_200 }, maxAttempts: 1 },
    );
    expect(await tokens.run()).toMatchObject({ kind: 'failed', reason: 'token-budget', steps: 3 });
    const time = await agentHarness((request) => ({ ...busy(request.index), delayMs: 150 }), {
      limits: { maxWallMs: 400 },
      maxAttempts: 1,
    });
    expect(await time.run()).toMatchObject({ kind: 'failed', reason: 'time-budget' });
  });

  it('bounds a command by what is left of the time budget, and hands the worktree back', async () => {
    const h = await agentHarness([call('run_command', { command: 'sleep 60' }), finish()], {
      limits: { maxWallMs: 1_500 },
      maxAttempts: 1,
    });
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'time-budget' });
    // The 60 s sleep was killed when the budget ran out, not waited for.
    expect(outcome.timings.agent).toBeLessThan(30_000);
    expect(await heldWorktrees(join(h.root, 'worktrees'))).toEqual([]);
  });

  it('refuses a FIFO the agent made instead of hanging on it, and goes on', async () => {
    const h = await agentHarness([
      call('run_command', { command: 'mkfifo src/pipe' }),
      call('read_file', { path: 'src/pipe' }),
      call('write_file', { path: 'src/greet.js', content: NEW_GREET }),
      finish(),
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ kind: 'succeeded', files: ['src/greet.js'] });
    expect(h.server.requests[2]!.body.messages.at(-1)!.content).toMatch(/^error: .*FIFO/);
  });
});

describe('a tool that never answers', () => {
  it('is abandoned when the stall time runs out: the agent is cancelled as stalled and returns', async () => {
    const { llm } = await scriptedLlm([call('wait_forever', {}), finish()]);
    const hanging: AgentTool = {
      name: 'wait_forever',
      spec: { name: 'wait_forever', description: 'never answers', parameters: { type: 'object', properties: {} } },
      runsCommands: false,
      writesFiles: false,
      run: () => new Promise(() => undefined),
    };
    const context = await toolSandbox({ 'a.txt': 'a\n' }, ['**']);
    const store = new MemoryCoordStore();
    const outcome = await runAgent({
      llm,
      subtask: SHOUT_SUBTASK,
      tools: [hanging, ...BUILTIN_TOOLS],
      context,
      limits: { ...DEFAULT_LIMITS, stallMs: 300 },
      reporter: storeReporter(store, 'run1', 'shout', 'shout-1'),
    });
    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: 'stalled',
      message: 'wait_forever did not return within 0.3 s',
    });
  });
});
