import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { main } from '../../src/cli/main.js';
import { executeRun } from '../../src/orchestrate/execute-run.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { scriptedBrain } from '../support/scripted-brain.js';

const exec = promisify(execFile);
const git = async (repo: string, ...args: string[]) => (await exec('git', args, { cwd: repo })).stdout.trim();

const PLAN = [{ id: 'greet', title: 'Greet politely', writeScope: ['src/greet.js'] }];
const greetWith = (body: string, summary: string): ScriptedReply[] => [
  call('write_file', { path: 'src/greet.js', content: `export function greet(name) {\n  ${body}\n}\n` }),
  finish(summary),
];
const GOOD = 'return `Hello, ${name}!`;';
const POLITE = "const greeting = 'Hello';\n  return `${greeting}, ${name}!`;";
const DOCUMENTED = "// Greets someone by name.\n  const greeting = 'Hello';\n  return `${greeting}, ${name}!`;";
const BROKEN = 'return `Hi, ${name}`;';

afterEach(() => vi.unstubAllEnvs());

describe('fix attempts in local mode', () => {
  it('`fanout fix` sends the agent back with the instructions: a new commit on the same pull request, validated again, then merged', async () => {
    const brain = scriptedBrain({
      plan: PLAN,
      agents: { 'Greet politely': greetWith(POLITE, 'Greets.') },
      fixes: { 'Greet politely': greetWith(DOCUMENTED, 'Documented greet.') },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate:\n  - node --test\napproval: manual\n' });
    const first = await h.run();
    const subtask = first.subtasks[0]!;
    expect(subtask.waiting?.reason, whyNot(first)).toBe('review-required');
    const branch = subtask.branch!;
    const before = await git(h.repo, 'rev-parse', branch);

    for (const [name, value] of Object.entries({
      FANOUT_STATE_DIR: h.stateDir,
      OPENAI_BASE_URL: h.server.baseUrl,
      OPENAI_API_KEY: 'test-key',
      FANOUT_MODEL: 'scripted-model',
      FANOUT_SANDBOX: 'none',
      FANOUT_ALLOW_ROOT_NONE: '1',
    }))
      vi.stubEnv(name, value);
    const output = captureOutput();
    const code = await main(['fix', first.runId, 'greet', 'Add a doc comment to greet'], output);
    expect(output.stderr()).toBe('');
    expect(code, output.stdout()).toBe(1); // still waiting for the approval, so not succeeded yet

    // The agent saw the instructions, on top of its own earlier work.
    expect(brain.fixPromptsFor('Greet politely')).toEqual([expect.stringContaining('Add a doc comment to greet')]);
    const after = await git(h.repo, 'rev-parse', branch);
    expect(after).not.toBe(before);
    expect(await git(h.repo, 'rev-parse', `${after}^`)).toBe(before);
    expect(await git(h.repo, 'show', `${after}:src/greet.js`)).toContain('// Greets someone by name.');
    expect(output.stdout()).toMatch(new RegExp(`greet #1, asked by @\\S+: pushed ${after.slice(0, 8)}`));

    // Re-validated: Fanout's checks on the new head are green.
    const forge = new LocalForge(h.repo, h.stateDir);
    const readiness = await forge.readiness(subtask.pr!.number);
    expect(readiness.checks).toEqual(
      expect.arrayContaining([
        { name: 'fanout/validate', state: 'success' },
        { name: 'fanout/scope', state: 'success' },
      ]),
    );
    expect((await forge.getPullRequest(subtask.pr!.number)).headSha).toBe(after);

    await forge.recordReview(subtask.pr!.number, { by: 'me', state: 'approved' });
    const done = await executeRun(h.deps, first.runId);
    expect(done.state, whyNot(done)).toBe('succeeded');
    expect(await git(h.repo, 'show', 'main:src/greet.js')).toContain('// Greets someone by name.');
  });

  it("an approval given before Fanout's own fix commit does not merge the fix: it waits for a new `fanout approve`", async () => {
    const brain = scriptedBrain({
      plan: PLAN,
      agents: { 'Greet politely': greetWith(POLITE, 'Greets.') },
      fixes: { 'Greet politely': greetWith(DOCUMENTED, 'Documented greet.') },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate:\n  - node --test\napproval: manual\n' });
    const first = await h.run();
    const branch = first.subtasks[0]!.branch!;
    const approved = await git(h.repo, 'rev-parse', branch);
    for (const [name, value] of Object.entries({
      FANOUT_STATE_DIR: h.stateDir,
      OPENAI_BASE_URL: h.server.baseUrl,
      OPENAI_API_KEY: 'test-key',
      FANOUT_MODEL: 'scripted-model',
      FANOUT_SANDBOX: 'none',
      FANOUT_ALLOW_ROOT_NONE: '1',
    }))
      vi.stubEnv(name, value);
    const approving = captureOutput();
    expect(await main(['approve', first.runId, 'greet'], approving)).toBe(0);
    expect(approving.stdout()).toContain(`Approved greet at ${approved.slice(0, 8)}`);

    const output = captureOutput();
    const code = await main(['fix', first.runId, 'greet', 'Add a doc comment to greet'], output);
    expect(code, output.stdout()).toBe(1);
    const fixed = await git(h.repo, 'rev-parse', branch);
    expect(fixed).not.toBe(approved);
    expect(output.stdout()).toContain(
      `greet: approval is for an older head ${approved.slice(0, 7)}; a new approval is needed for ${fixed.slice(0, 7)}`,
    );
    expect(output.stdout()).toContain(`Approve with: fanout approve ${first.runId} greet`);
    expect(await git(h.repo, 'show', 'main:src/greet.js')).not.toContain('// Greets someone by name.');

    expect(await main(['approve', first.runId, 'greet'], captureOutput())).toBe(0);
    const done = await executeRun(h.deps, first.runId);
    expect(done.state, whyNot(done)).toBe('succeeded');
    expect(await git(h.repo, 'show', 'main:src/greet.js')).toContain('// Greets someone by name.');
  });

  it('with fixOnRedCheck, a red validation goes back to the agent with the failing output, and the fix merges', async () => {
    const brain = scriptedBrain({
      plan: PLAN,
      agents: { 'Greet politely': greetWith(BROKEN, 'Greets briefly.') },
      fixes: { 'Greet politely': greetWith(GOOD, 'Fixed the greeting the test expects.') },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate:\n  - node --test\nfixOnRedCheck: true\n' });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    const [prompt] = brain.fixPromptsFor('Greet politely');
    expect(prompt).toContain('Check "fanout/validate" failed.');
    expect(prompt).toContain("'Hello, Ada!'"); // the assertion's output from node --test
    expect(report.subtasks[0]!.fixes).toEqual([
      expect.objectContaining({
        number: 1,
        state: 'pushed',
        askedBy: expect.stringMatching(/^red checks on [0-9a-f]{8}$/),
      }),
    ]);
    expect(await git(h.repo, 'show', 'main:src/greet.js')).toContain('Hello, ${name}!');
  });

  it('past maxFixAttempts the pull request goes to a person: labelled, with a comment on what was tried', async () => {
    const brain = scriptedBrain({
      plan: PLAN,
      agents: { 'Greet politely': greetWith(BROKEN, 'Greets briefly.') },
      fixes: { 'Greet politely': greetWith('return `Hey, ${name}`;', 'Tried another greeting.') },
    });
    const h = await pipelineHarness(brain.reply, {
      config: 'validate:\n  - node --test\nfixOnRedCheck: true\nmaxFixAttempts: 1\n',
    });
    const report = await h.run();
    expect(report.state).toBe('failed');
    const subtask = report.subtasks[0]!;
    expect(brain.fixPromptsFor('Greet politely')).toHaveLength(1);
    expect(subtask.needsHuman).toMatch(/checks still fail after 1 fix attempt/);
    const forge = new LocalForge(h.repo, h.stateDir);
    expect(await forge.labels(subtask.pr!.number)).toEqual(['fanout: needs human']);
    const comments = (await forge.comments(subtask.pr!.number)).map((comment) => comment.body);
    expect(comments).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Fanout needs a person here: .*\n\nWhat it tried:\n- attempt 1, failing checks: pushed [0-9a-f]{8}/,
        ),
      ]),
    );
    expect(await git(h.repo, 'show', 'main:src/greet.js')).toContain('Hello, ${name}!');
  });
});
