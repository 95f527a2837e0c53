import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createAgentBackends } from '../../src/main.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { main } from '../../src/cli/main.js';
import { whyNot } from '../support/pipeline-harness.js';
import { heldWorktrees } from '../support/worktree-slots.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { executeRun, prepareResume } from '../../src/orchestrate/execute-run.js';
import { ProbeCache } from '../../src/orchestrate/probe-cache.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { scriptedLlm, stubModelEnv } from '../support/scripted-llm.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { tempDir } from '../support/temp-dir.js';
import { withTsxCache } from '../support/tsx-cache.js';

const exec = promisify(execFile);
const PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
const writes = (path: string): ScriptedReply[] => [call('write_file', { path, content: `${path}\n` }), finish()];
const CLI = join(process.cwd(), 'src/cli/main.ts');

describe('crash and resume', () => {
  it('resumes a run killed mid-way without repeating finished subtasks, and takes its stranded worktree back', async () => {
    const root = await tempDir('fanout-crash-');
    const repo = join(root, 'repo');
    const stateDir = join(root, 'state');
    await createRepository(repo, SAMPLE_FILES);
    const before = scriptedBrain({
      plan: PLAN,
      agents: { 'First part': writes('one.txt'), 'Second part': [{ hang: true }] },
    });
    const { server } = await scriptedLlm(before.reply);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'run', '--repo', repo, '--json', 'Write two files'],
      {
        // TMPDIR: the killed process cannot remove its agents' private homes; they go with `root`.
        env: {
          ...process.env,
          OPENAI_BASE_URL: server.baseUrl,
          OPENAI_API_KEY: 'k',
          FANOUT_MODEL: 'scripted-model',
          FANOUT_STATE_DIR: stateDir,
          FANOUT_SANDBOX: 'none',
          FANOUT_ALLOW_ROOT_NONE: '1',
          TMPDIR: withTsxCache(root),
        },
        stdio: 'ignore',
      },
    );
    const store = new FileCoordStore(stateDir);
    let runId = '';
    let strandedWorktree = '';
    await vi.waitFor(
      async () => {
        runId = (await store.listRuns())[0]?.id ?? '';
        const records = await store.listSubtasks(runId);
        const one = records.find((record) => record.subtaskId === 'one');
        const two = records.find((record) => record.subtaskId === 'two');
        expect(one?.state).toBe('succeeded');
        expect(two?.state).toBe('running');
        strandedWorktree = two?.worktreePath ?? '';
        expect(existsSync(strandedWorktree)).toBe(true);
      },
      { timeout: 45_000, interval: 100 },
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const after = scriptedBrain({
      plan: PLAN,
      agents: { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
    });
    const { llm } = await scriptedLlm(after.reply);
    const runner = new ProcessCommandRunner();
    const deps = {
      llm,
      agents: createAgentBackends(llm, runner),
      workspace: new GitWorkspace(),
      runner,
      store,
      forge: new LocalForge(repo, stateDir),
      probes: new ProbeCache(),
      worktreeRoot: join(stateDir, 'worktrees'),
    };
    await prepareResume(deps, runId, { retryFailed: false });
    const report = await executeRun(deps, runId);
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(report.subtasks.map((s) => [s.id, Boolean(s.merged)])).toEqual([
      ['one', true],
      ['two', true],
    ]);
    expect(after.requestsFor('First part')).toBe(0);
    expect(after.requestsFor('Second part')).toBe(2);
    // The dead run's worktree slot was taken back and reused; nothing is held, and nothing lies outside the pool.
    expect(await heldWorktrees(join(stateDir, 'worktrees'))).toEqual([]);
    const { stdout } = await exec('git', ['worktree', 'list', '--porcelain'], { cwd: repo });
    const others = stdout
      .split('\n')
      .filter((line) => line.startsWith('worktree '))
      .map((line) => line.slice('worktree '.length))
      .slice(1);
    expect(others).toContain(strandedWorktree);
    expect(others.every((path) => path.startsWith(join(stateDir, 'worktrees', 'pool')))).toBe(true);
  }, 90_000);
});

describe('fanout run (CLI)', () => {
  it('prints a JSON report and exits 1 on a partial run, 0 when everything merged; --agent holds for the whole run', async () => {
    const root = await tempDir('fanout-cli-run-');
    const repo = join(root, 'repo');
    // A backend the run does not use: --agent chooses another for the run, resume included.
    await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'agent: codex\n' });
    const loop = Array.from({ length: 6 }, () => call('list_directory', { path: '.' }));
    const partial = scriptedBrain({ plan: PLAN, agents: { 'First part': writes('one.txt'), 'Second part': loop } });
    const { server } = await scriptedLlm(partial.reply);
    stubModelEnv(server.baseUrl, join(root, 'state'));
    try {
      const output = captureOutput();
      expect(await main(['run', '--repo', repo, '--agent', 'builtin', '--json', 'Write two files'], output)).toBe(1);
      const report = JSON.parse(output.stdout());
      expect(report.state, whyNot(report)).toBe('partial');
      expect(report.agent).toBe('builtin');
      expect(report.notes).toContain('Agents: builtin, chosen for this run over codex from .github/fanout.yml.');
      expect(report.subtasks[0]).toMatchObject({
        id: 'one',
        agent: 'builtin',
        branch: `fanout/${report.runId}/one`,
        pr: { number: 1 },
        check: 'passed',
        merged: expect.stringMatching(/^[0-9a-f]{40}$/),
      });
      expect(report.subtasks[1]).toMatchObject({ id: 'two', failure: { reason: 'looping' } });
      expect(report.tokens.prompt).toBeGreaterThan(0);

      const logs = captureOutput();
      expect(await main(['logs', report.runId, 'two'], logs)).toBe(0);
      expect(logs.stdout()).toMatch(/two, attempt 1 \(builtin, \d+ events\)/);
      expect(logs.stdout()).toMatch(/two, attempt 2 \(builtin, \d+ events\)/);
      expect(logs.stdout()).toMatch(/guard-hint\s+step 3: You have made the same list_directory call 3 times in a row/);
      expect(logs.stdout()).toMatch(/agent-failed\s+looping: made the same list_directory call 4 times in a row/);

      const status = captureOutput();
      expect(await main(['status'], status)).toBe(0);
      expect(status.stdout()).toContain(report.runId);
      expect(status.stdout()).toMatch(new RegExp(`${report.runId}\\s+partial\\s+builtin`));
      const listed = captureOutput();
      expect(await main(['status', '--json'], listed)).toBe(0);
      expect(JSON.parse(listed.stdout()).runs).toEqual([
        expect.objectContaining({ runId: report.runId, agent: 'builtin' }),
      ]);

      const good = scriptedBrain({
        plan: PLAN,
        agents: { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
      });
      const second = await scriptedLlm(good.reply);
      vi.stubEnv('OPENAI_BASE_URL', second.server.baseUrl);
      const retried = captureOutput();
      expect(await main(['resume', report.runId, '--retry-failed', '--json'], retried)).toBe(0);
      const after = JSON.parse(retried.stdout());
      expect(after.state).toBe('succeeded');
      expect(after.error).toBeUndefined();
      expect(after.agent).toBe('builtin');
      expect(good.requestsFor('First part')).toBe(0);
      // The new attempt is numbered after the two that failed, and every token is still counted.
      const two = after.subtasks.find((subtask: { id: string }) => subtask.id === 'two');
      const before = report.subtasks[1];
      expect(two.attempts).toBe(3);
      expect(two.tokens.prompt).toBeGreaterThan(before.tokens.prompt);
      expect(after.tokens.prompt).toBeGreaterThan(report.tokens.prompt);
      const allLogs = captureOutput();
      expect(await main(['logs', report.runId, 'two'], allLogs)).toBe(0);
      for (const attempt of [1, 2, 3]) expect(allLogs.stdout()).toContain(`two, attempt ${attempt}`);
      expect(allLogs.stdout()).toMatch(/two, attempt 3 \(builtin, \d+ events\)[\s\S]*agent-finished/);
      const json = captureOutput();
      expect(await main(['logs', report.runId, 'two', '--attempt', '3', '--json'], json)).toBe(0);
      expect(JSON.parse(json.stdout())).toMatchObject({ attempt: 3, agent: 'builtin' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('waits for approval under approval: manual; approve then resume merges', async () => {
    const root = await tempDir('fanout-cli-manual-');
    const repo = join(root, 'repo');
    await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'approval: manual\n' });
    const brain = scriptedBrain({ plan: [PLAN[0]!], agents: { 'First part': writes('one.txt') } });
    const { server } = await scriptedLlm(brain.reply);
    stubModelEnv(server.baseUrl, join(root, 'state'));
    try {
      const first = captureOutput();
      expect(await main(['run', '--repo', repo, '--json', 'Write one file'], first)).toBe(1);
      const report = JSON.parse(first.stdout());
      expect(report.state).toBe('merging');
      expect(report.subtasks[0]).toMatchObject({ check: 'passed', waiting: { reason: 'review-required' } });
      expect(report.subtasks[0]).not.toHaveProperty('failure');
      const shown = captureOutput();
      expect(await main(['status', report.runId], shown)).toBe(0);
      expect(shown.stdout()).toContain('waiting: review-required');
      expect(shown.stdout()).toContain(`Approve with: fanout approve ${report.runId} one`);
      expect(shown.stdout()).not.toContain('What failed');
      const approve = captureOutput();
      expect(await main(['approve', report.runId, 'one'], approve)).toBe(0);
      expect(approve.stdout()).toContain(`fanout resume ${report.runId}`);
      const resumed = captureOutput();
      expect(await main(['resume', report.runId, '--json'], resumed)).toBe(0);
      expect(JSON.parse(resumed.stdout()).subtasks[0]).toMatchObject({
        merged: expect.stringMatching(/^[0-9a-f]{40}$/),
        approvedBy: expect.any(String),
      });
      expect(brain.requestsFor('First part')).toBe(2);
      // Approving what is merged already says so, and points at no resume.
      const again = captureOutput();
      expect(await main(['approve', report.runId, 'one'], again)).toBe(1);
      expect(again.stderr()).toContain('is already merged');
      expect(again.stdout() + again.stderr()).not.toContain('resume');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
