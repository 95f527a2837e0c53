import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { scriptedBrain } from '../support/scripted-brain.js';

const write = (path: string, content = `${path}\n`): ScriptedReply[] => [
  call('write_file', { path, content }),
  finish(`Wrote ${path}.`),
];
const ONE = [{ id: 'one', title: 'First part', writeScope: ['one.txt', 'bad.txt', 'docs/'] }];

afterEach(() => vi.unstubAllEnvs());

describe('validation of the base and of each pull request', () => {
  it('stops before any model call when the base already fails validation, naming the command and its output', async () => {
    const brain = scriptedBrain({ plan: ONE, agents: { 'First part': write('one.txt') } });
    const h = await pipelineHarness(brain.reply, {
      config: "validate:\n  - run: echo 'missing fixture' && test -f fixture.txt\n",
    });
    const report = await h.run();
    expect(report.state).toBe('failed');
    expect(report.error).toContain('already fails validation, so no agent was started');
    expect(report.error).toContain("`echo 'missing fixture' && test -f fixture.txt`: exit 1");
    expect(report.error).toContain('missing fixture');
    expect(h.server.requests).toHaveLength(0);
  });

  it('with baseline: allow-red, holds against a pull request only what passes on the base', async () => {
    const config = 'baseline: allow-red\nvalidate:\n  - test -f fixture.txt\n  - "! test -f bad.txt"\n';
    const good = await pipelineHarness(scriptedBrain({ plan: ONE, agents: { 'First part': write('one.txt') } }).reply, {
      config,
    });
    const merged = await good.run();
    expect(merged.state, whyNot(merged)).toBe('succeeded');

    const bad = await pipelineHarness(scriptedBrain({ plan: ONE, agents: { 'First part': write('bad.txt') } }).reply, {
      config,
    });
    const refused = await bad.run();
    expect(refused.subtasks[0]).toMatchObject({ check: 'failed', failure: { reason: 'validation-failed' } });
    expect(refused.subtasks[0]!.failedCommands?.map((command) => command.run)).toEqual(['! test -f bad.txt']);
  });

  it('runs a command with paths only when the change touches them (a docs change skips the tests)', async () => {
    const brain = scriptedBrain({ plan: ONE, agents: { 'First part': write('docs/guide.md') } });
    const h = await pipelineHarness(brain.reply, {
      config: "validate:\n  - run: test ! -e docs\n    paths: ['src/**']\n  - test -f README.md\n",
    });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
  });

  it("shows a failed check's command, exit code and last output lines in status, logs and --json", async () => {
    const brain = scriptedBrain({ plan: ONE, agents: { 'First part': write('bad.txt') } });
    const h = await pipelineHarness(brain.reply, {
      config: 'validate:\n  - run: "if test -f bad.txt; then echo \'bad.txt must not exist\'; exit 3; fi"\n',
    });
    const report = await h.run();
    expect(report.state).toBe('failed');
    vi.stubEnv('FANOUT_STATE_DIR', h.stateDir);
    const output = captureOutput();
    expect(await main(['status', report.runId], output)).toBe(0);
    expect(output.stdout()).toContain("$ if test -f bad.txt; then echo 'bad.txt must not exist'; exit 3; fi  (exit 3");
    expect(output.stdout()).toContain('bad.txt must not exist');
    expect(output.stdout()).toContain(`Retry the failed subtasks with: fanout resume ${report.runId} --retry-failed`);
    const logs = captureOutput();
    expect(await main(['logs', report.runId, 'one'], logs)).toBe(0);
    expect(logs.stdout()).toMatch(/validated\s+failed \(exit 3\) if test -f bad.txt/);
    expect(logs.stdout()).toContain('bad.txt must not exist');
    const json = captureOutput();
    expect(await main(['status', report.runId, '--json'], json)).toBe(0);
    expect(JSON.parse(json.stdout()).subtasks[0].failedCommands[0]).toMatchObject({
      exitCode: 3,
      outputTail: expect.stringContaining('bad.txt must not exist'),
    });
  });
});
