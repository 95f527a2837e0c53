import { execFile, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { FAILPOINTS, type FailpointName } from '../../src/domain/failpoint.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm, stubModelEnv } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';
import { heldWorktrees } from '../support/worktree-slots.js';
import { withTsxCache } from '../support/tsx-cache.js';

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();
const CLI = join(process.cwd(), 'src/cli/main.ts');
const PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
const writes = (path: string): ScriptedReply[] => [
  call('read_file', { path: 'README.md' }),
  call('write_file', { path, content: `${path}\n` }),
  finish(),
];

afterEach(() => vi.unstubAllEnvs());

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What a finished run leaves behind, in the terms the fault suite compares. */
async function endState(repo: string, stateDir: string) {
  // What landed on main, one commit per pull request carrying its number.
  const merges = (await git(repo, 'log', '--first-parent', '--format=%s', 'main'))
    .split('\n')
    .filter((subject) => /\(#\d+\)$/.test(subject))
    .map((subject) => /\(#\d+\)$/.exec(subject)![0])
    .sort();
  const records = (await filesUnder(join(stateDir, 'local-forge'))).filter((path) => /pr-\d+\.json$/.test(path));
  const worktreePaths = (await git(repo, 'worktree', 'list', '--porcelain'))
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .slice(1);
  const locks = [...(await filesUnder(join(repo, '.git'))), ...(await filesUnder(join(stateDir, 'worktrees')))].filter(
    (path) => path.endsWith('index.lock'),
  );
  return {
    files: (await git(repo, 'ls-tree', '-r', '--name-only', 'main')).split('\n'),
    merges,
    pullRequests: records.length,
    // Worktrees live in the reusable pool, none held once the run is over, none elsewhere.
    worktreesOutsidePool: worktreePaths.filter((path) => !path.startsWith(join(stateDir, 'worktrees', 'pool'))),
    heldWorktrees: await heldWorktrees(join(stateDir, 'worktrees')),
    locks,
    // The user's checkout: clean, and exactly the base.
    checkoutStatus: await git(repo, 'status', '--porcelain', '--untracked-files=all'),
    checkoutHead: await git(repo, 'rev-parse', 'HEAD'),
    base: await git(repo, 'rev-parse', 'main'),
  };
}

async function scenario() {
  const root = await tempDir('fanout-fault-');
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'validate:\n  - test -f README.md\n' });
  const brain = scriptedBrain({
    plan: PLAN,
    agents: { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
  });
  const { server } = await scriptedLlm(brain.reply);
  return { root, repo, stateDir, server };
}

/** `fanout run` as its own process, killed by SIGKILL at the failpoint. */
async function killedRun(
  s: Awaited<ReturnType<typeof scenario>>,
  failpoint: FailpointName,
): Promise<NodeJS.Signals | null> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'run', '--repo', s.repo, '--json', 'Write two files'],
    {
      env: {
        ...process.env,
        OPENAI_BASE_URL: s.server.baseUrl,
        OPENAI_API_KEY: 'k',
        FANOUT_MODEL: 'scripted-model',
        FANOUT_STATE_DIR: s.stateDir,
        FANOUT_SANDBOX: 'none',
        FANOUT_ALLOW_ROOT_NONE: '1',
        FANOUT_FAILPOINT: failpoint,
        TMPDIR: withTsxCache(s.root),
      },
      stdio: 'ignore',
    },
  );
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('fault suite: SIGKILL at each step of a run, then resume', () => {
  it('an uninterrupted run: the end state every resumed run must reach', async () => {
    const s = await scenario();
    stubModelEnv(s.server.baseUrl, s.stateDir);
    const output = captureOutput();
    expect(await main(['run', '--repo', s.repo, '--json', 'Write two files'], output)).toBe(0);
    const state = await endState(s.repo, s.stateDir);
    expect(state).toMatchObject({
      merges: ['(#1)', '(#2)'],
      pullRequests: 2,
      worktreesOutsidePool: [],
      heldWorktrees: [],
      locks: [],
      checkoutStatus: '',
    });
    expect(state.files).toEqual(expect.arrayContaining(['one.txt', 'two.txt']));
    expect(state.checkoutHead).toBe(state.base);
  });

  it.each(FAILPOINTS)('killed at %s: resuming reaches the same end state', async (failpoint) => {
    const s = await scenario();
    expect(await killedRun(s, failpoint)).toBe('SIGKILL');
    const runs = await new FileCoordStore(s.stateDir).listRuns();
    expect(runs).toHaveLength(1);

    stubModelEnv(s.server.baseUrl, s.stateDir);
    const output = captureOutput();
    const code = await main(['resume', runs[0]!.id, '--json'], output);
    expect(code, output.stdout() + output.stderr()).toBe(0);
    const report = JSON.parse(output.stdout());
    expect(
      report.subtasks.map((subtask: { id: string; merged?: string }) => [subtask.id, Boolean(subtask.merged)]),
    ).toEqual([
      ['one', true],
      ['two', true],
    ]);

    const state = await endState(s.repo, s.stateDir);
    expect(state.pullRequests).toBe(2);
    // At most one merge per pull request: #1 and #2, once each.
    expect(state.merges).toEqual(['(#1)', '(#2)']);
    expect(state.files).toEqual(expect.arrayContaining(['one.txt', 'two.txt']));
    expect(state).toMatchObject({ worktreesOutsidePool: [], heldWorktrees: [], locks: [], checkoutStatus: '' });
    expect(state.checkoutHead).toBe(state.base);
  });
});
