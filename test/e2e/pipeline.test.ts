import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { sampleRun } from '../contract/coord-store.contract.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { heldWorktrees } from '../support/worktree-slots.js';
import { scriptedBrain } from '../support/scripted-brain.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();
const write = (path: string, content: string): ScriptedReply[] => [
  call('write_file', { path, content }),
  finish(`Wrote ${path}.`),
];
const loop: ScriptedReply[] = Array.from({ length: 6 }, () => call('list_directory', { path: '.' }));

describe('the local pipeline, end to end', () => {
  it('merges every subtask in plan order, each PR validated, the user checkout fast-forwarded', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'one', title: 'First part', writeScope: ['one.txt'] },
        { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
        { id: 'three', title: 'Third part', writeScope: ['three.txt'], dependsOn: ['one'] },
      ],
      // The second agent is the slowest, so its PR comes last but must merge second.
      agents: {
        'First part': write('one.txt', '1\n'),
        'Second part': [{ ...call('write_file', { path: 'two.txt', content: '2\n' }), delayMs: 400 }, finish()],
        'Third part': write('three.txt', '3\n'),
      },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate:\n  - run: test -f README.md\n' });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(report.subtasks.map((s) => [s.id, s.check, Boolean(s.merged)])).toEqual([
      ['one', 'passed', true],
      ['two', 'passed', true],
      ['three', 'passed', true],
    ]);
    // One commit per subtask on main, carrying its PR number, newest first: plan order.
    const landed = (await git(h.repo, 'log', '--first-parent', '--format=%s', 'main')).split('\n');
    expect(landed.slice(0, 3).map((subject) => /^(.+) \(#\d+\)$/.exec(subject)?.[1])).toEqual([
      'Third part',
      'Second part',
      'First part',
    ]);
    expect(landed).toHaveLength(4);
    // main is checked out in the user's repository: it was fast-forwarded, clean, with all files.
    expect(await git(h.repo, 'status', '--porcelain')).toBe('');
    expect((await readdir(h.repo)).filter((name) => name.endsWith('.txt')).sort()).toEqual([
      'one.txt',
      'three.txt',
      'two.txt',
    ]);
    expect(await heldWorktrees(join(h.stateDir, 'worktrees'))).toEqual([]);
    // Every agent starts from the run's outline of the repository.
    const firstMessages = h.server.requests
      .map((request) => request.body.messages.find((message) => message.role === 'user')?.content ?? '')
      .filter((text) => text.includes('Your subtask:'));
    expect(firstMessages.length).toBeGreaterThanOrEqual(3);
    for (const text of firstMessages) {
      expect(text).toContain(
        'Repository files (you need not list directories to find these):\n.github/fanout.yml\nCHANGELOG.md\nREADME.md',
      );
      expect(text).toContain('\nsrc/greet.js\n');
    }
  });

  it('reports a partial run: one agent loops, the rest merge', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'good', title: 'Good part', writeScope: ['good.txt'] },
        { id: 'loopy', title: 'Loopy part', writeScope: ['loopy.txt'] },
      ],
      agents: { 'Good part': write('good.txt', 'ok\n'), 'Loopy part': loop },
    });
    const h = await pipelineHarness(brain.reply);
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('partial');
    expect(report.subtasks.find((s) => s.id === 'good')).toMatchObject({ merged: expect.any(String) });
    expect(report.subtasks.find((s) => s.id === 'loopy')).toMatchObject({
      state: 'failed',
      attempts: 2,
      failure: { reason: 'looping' },
    });
    expect(await git(h.repo, 'show', 'main:good.txt')).toBe('ok');
  });

  it('falls back once to a single agent on the whole task when every agent fails', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'a', title: 'Part A', writeScope: ['a.txt'] },
        { id: 'b', title: 'Part B', writeScope: ['b.txt'] },
      ],
      agents: {
        'Part A': loop,
        'Part B': [
          call('read_file', { path: 'nope-1' }),
          call('read_file', { path: 'nope-2' }),
          call('read_file', { path: 'nope-3' }),
        ],
        'Whole task, single agent (fallback)': [
          call('write_file', { path: 'a.txt', content: 'a\n' }),
          call('write_file', { path: 'b.txt', content: 'b\n' }),
          finish(),
        ],
      },
    });
    const h = await pipelineHarness(brain.reply);
    const report = await h.run('Write a.txt and b.txt');
    expect(report.subtasks.map((s) => [s.id, s.failure?.reason ?? 'merged'])).toEqual([
      ['a', 'looping'],
      ['b', 'error-streak'],
      ['single-agent', 'merged'],
    ]);
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(report.notes).toContain('Every planned agent failed; fell back once to a single agent on the whole task.');
    expect(await git(h.repo, 'show', 'main:b.txt')).toBe('b');
  });

  it('does not merge a PR whose re-validation fails after the base moved', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'a', title: 'Part A', writeScope: ['a.txt'] },
        { id: 'b', title: 'Part B', writeScope: ['b.txt'] },
      ],
      agents: { 'Part A': write('a.txt', 'a\n'), 'Part B': write('b.txt', 'b\n') },
    });
    // Each change passes alone; together they break the (contrived) build.
    const h = await pipelineHarness(brain.reply, {
      config: "validate:\n  - run: '! { test -f a.txt && test -f b.txt; }'\n",
    });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('partial');
    expect(report.subtasks.find((s) => s.id === 'a')).toMatchObject({ check: 'passed', merged: expect.any(String) });
    expect(report.subtasks.find((s) => s.id === 'b')).toMatchObject({
      check: 'failed',
      failure: { reason: 'revalidation-failed' },
    });
    await expect(git(h.repo, 'show', 'main:b.txt')).rejects.toThrow();
    // Nothing is left mid-merge anywhere.
    expect(await git(h.repo, 'status', '--porcelain')).toBe('');
  });

  it('stops before any agent when the model fails the capability probe', async () => {
    const h = await pipelineHarness(() => ({ content: 'I cannot call tools.' }));
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('failed');
    expect(report.error).toContain('The model cannot drive agents; no agent was started.');
    expect(report.error).toContain('FAIL tool-call');
    expect(report.subtasks).toEqual([]);
  });

  it('starts a dependent subtask only after its dependency merged, from the base that holds its work', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'lib', title: 'Library part', writeScope: ['lib.txt'] },
        { id: 'user', title: 'User part', writeScope: ['user.txt'], dependsOn: ['lib'] },
      ],
      agents: {
        'Library part': write('lib.txt', 'the library\n'),
        'User part': [
          call('read_file', { path: 'lib.txt' }),
          call('write_file', { path: 'user.txt', content: 'uses the library\n' }),
          finish(),
        ],
      },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate: []\n' });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    // The dependent agent read the library its dependency had merged.
    const userRead = h.server.requests.find(
      (request) =>
        JSON.stringify(request.body.messages).includes('Your subtask: User part') &&
        request.body.messages.some((message) => message.role === 'tool'),
    );
    expect(userRead?.body.messages.find((message) => message.role === 'tool')?.content).toContain('the library');
    expect(await git(h.repo, 'show', 'main:user.txt')).toBe('uses the library');
  });

  it('does not start a subtask whose dependency failed', async () => {
    const brain = scriptedBrain({
      plan: [
        { id: 'lib', title: 'Library part', writeScope: ['lib.txt'] },
        { id: 'user', title: 'User part', writeScope: ['user.txt'], dependsOn: ['lib'] },
        { id: 'docs', title: 'Docs part', writeScope: ['docs.txt'] },
      ],
      agents: { 'Library part': loop, 'User part': write('user.txt', 'u\n'), 'Docs part': write('docs.txt', 'd\n') },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate: []\n' });
    const report = await h.run();
    expect(report.subtasks.find((subtask) => subtask.id === 'user')).toMatchObject({
      state: 'failed',
      failure: { reason: 'dependency-failed' },
    });
    expect(brain.requestsFor('User part')).toBe(0);
    expect(report.subtasks.find((subtask) => subtask.id === 'docs')?.merged).toBeTruthy();
  });

  it("reuses the first run's worktrees in a second run on the same repository", async () => {
    const plan = [
      { id: 'one', title: 'First part', writeScope: ['one.txt'] },
      { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
    ];
    let brain = scriptedBrain({
      plan,
      agents: { 'First part': write('one.txt', '1\n'), 'Second part': write('two.txt', '2\n') },
    });
    const h = await pipelineHarness((request) => brain.reply(request), { config: 'validate: []\n' });
    expect((await h.run()).state).toBe('succeeded');
    const records = async () => (await readdir(join(h.repo, '.git', 'worktrees'))).sort();
    const afterFirst = await records();
    brain = scriptedBrain({
      plan: plan.map((subtask) => ({ ...subtask, writeScope: [`again-${subtask.writeScope[0]}`] })),
      agents: { 'First part': write('again-one.txt', '1\n'), 'Second part': write('again-two.txt', '2\n') },
    });
    const second = await h.run();
    expect(second.state, whyNot(second)).toBe('succeeded');
    // The same worktrees, reset to the new base: no worktree was added.
    expect(await records()).toEqual(afterFirst);
    expect(await git(h.repo, 'show', 'main:again-two.txt')).toBe('2');
  });

  it("prunes worktrees abandoned by crashed runs at start, keeping live runs' worktrees and every branch", async () => {
    const brain = scriptedBrain({
      plan: [{ id: 'a', title: 'Part A', writeScope: ['a.txt'] }],
      agents: { 'Part A': write('a.txt', 'a\n') },
    });
    const h = await pipelineHarness(brain.reply);
    const base = await h.deps.workspace.resolveCommit(h.repo, 'main');
    const deadPid = spawnSync('true').pid as number;
    for (const [id, pid] of [
      ['dead-run', deadPid],
      ['live-run', process.pid],
    ] as const) {
      await h.deps.store.createRun({
        ...sampleRun(id),
        repo: h.repo,
        state: 'running',
        owner: { pid, host: hostname(), since: '' },
      });
    }
    const dead = await h.deps.workspace.createWorktree({
      repoDir: h.repo,
      path: join(h.deps.worktreeRoot, 'dead-run', 'x-1'),
      branch: 'fanout/dead-run/x',
      baseCommit: base,
    });
    const live = await h.deps.workspace.createWorktree({
      repoDir: h.repo,
      path: join(h.deps.worktreeRoot, 'live-run', 'y-1'),
      branch: 'fanout/live-run/y',
      baseCommit: base,
    });
    expect((await h.run()).state).toBe('succeeded');
    expect(existsSync(dead.path)).toBe(false);
    expect(existsSync(live.path)).toBe(true);
    expect(await git(h.repo, 'branch', '--list', 'fanout/dead-run/x')).toContain('fanout/dead-run/x');
  });
});
