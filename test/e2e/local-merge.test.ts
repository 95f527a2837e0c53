import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { FailpointName } from '../../src/domain/failpoint.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const workspace = new GitWorkspace();
const author = { name: 'Fanout', email: 'f@example.com' };
const git = async (cwd: string, ...args: string[]) =>
  (
    await exec('git', ['-c', 'user.name=u', '-c', 'user.email=u@u', ...args], {
      cwd,
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
    })
  ).stdout.trim();

/** The user's repository (main checked out, clean) and one open PR whose branch writes `files`. */
async function setup(files: Record<string, string>, deleted: string[] = []) {
  const root = await tempDir('fanout-local-merge-');
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  await createRepository(repo, SAMPLE_FILES);
  const forge = new LocalForge(repo, stateDir);
  const base = await workspace.resolveCommit(repo, 'main');
  const worktree = await workspace.createWorktree({
    repoDir: repo,
    path: join(root, 'wt'),
    branch: 'fanout/r/a',
    baseCommit: base,
  });
  for (const path of deleted) await rm(join(worktree.path, path), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(worktree.path, path)), { recursive: true });
    await writeFile(join(worktree.path, path), content);
  }
  const commit = await workspace.commitChanges(worktree, { message: 'a', author, isAllowed: () => true });
  await workspace.removeWorktree(worktree);
  if (commit.kind !== 'committed') throw new Error('setup commit failed');
  const pr = await forge.openPullRequest({
    runId: 'run-1',
    subtaskId: 'a',
    title: 'a',
    body: '',
    branch: 'fanout/r/a',
    base: 'main',
    headSha: commit.commit,
  });
  return { root, repo, stateDir, forge, base, head: commit.commit, number: pr.number };
}

/** What a user sees of their checkout: where main is, what git status says, what the index holds. */
async function checkoutState(repo: string) {
  return {
    main: await git(repo, 'rev-parse', 'main'),
    status: await git(repo, 'status', '--porcelain', '--untracked-files=all', '--ignored'),
    index: await git(repo, 'write-tree'),
  };
}

/** Commits on main that landed pull request `number` (one per merge: a squash carries `(#N)`). */
async function mergesOf(repo: string, number: number): Promise<number> {
  const subjects = (await git(repo, 'log', '--first-parent', '--format=%s', 'main')).split('\n');
  return subjects.filter((subject) => subject.endsWith(`(#${number})`)).length;
}

/** The checkout is clean and its index and files are exactly main's tree. */
async function expectCheckoutAtMain(repo: string): Promise<void> {
  expect(await git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  expect(await git(repo, 'write-tree')).toBe(await git(repo, 'rev-parse', 'main^{tree}'));
}

describe('local merge: the user checkout', () => {
  it('refuses, changing nothing, when an untracked file is where the PR adds one; merges once it is moved away', async () => {
    const { repo, forge, head, number } = await setup({ 'notes.txt': 'from the PR\n' });
    await writeFile(join(repo, 'notes.txt'), 'my own notes\n');
    const before = await checkoutState(repo);

    const refused = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(refused).toMatchObject({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: expect.stringContaining('notes.txt'),
    });
    expect(refused).toMatchObject({ message: expect.stringContaining('fanout resume run-1') });
    expect(await checkoutState(repo)).toEqual(before);
    expect(await readFile(join(repo, 'notes.txt'), 'utf8')).toBe('my own notes\n');
    expect(await forge.getPullRequest(number)).toMatchObject({ state: 'open' });

    await rm(join(repo, 'notes.txt'));
    const merged = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(merged).toMatchObject({ kind: 'merged' });
    expect(await git(repo, 'show', 'main:notes.txt')).toBe('from the PR');
    expect(await readFile(join(repo, 'notes.txt'), 'utf8')).toBe('from the PR\n');
    await expectCheckoutAtMain(repo);
    expect(await forge.getPullRequest(number)).toMatchObject({
      state: 'merged',
      mergedSha: await git(repo, 'rev-parse', 'main'),
    });
  });

  it('refuses when an ignored file is where the PR adds one (git would overwrite it silently)', async () => {
    const { repo, forge, head, number } = await setup({ 'settings.local': 'from the PR\n' });
    await writeFile(join(repo, '.git', 'info', 'exclude'), '*.local\n');
    await writeFile(join(repo, 'settings.local'), 'API_TOKEN=mine\n');
    const before = await checkoutState(repo);

    const refused = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(refused).toMatchObject({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: expect.stringContaining('settings.local'),
    });
    expect(await checkoutState(repo)).toEqual(before);
    expect(await readFile(join(repo, 'settings.local'), 'utf8')).toBe('API_TOKEN=mine\n');
  });

  it('refuses when ignored files are inside a directory the PR turns into a file', async () => {
    // The PR replaces the directory src/ with a file named src.
    const { repo, forge, head, number } = await setup({ src: 'now a file\n' }, ['src']);
    await writeFile(join(repo, '.git', 'info', 'exclude'), '*.log\n');
    await writeFile(join(repo, 'src', 'debug.log'), 'my log\n');
    const before = await checkoutState(repo);

    const refused = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(refused).toMatchObject({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: expect.stringContaining('src/debug.log'),
    });
    expect(await checkoutState(repo)).toEqual(before);
  });

  it('merges when a file the PR changes was touched but not changed in the checkout', async () => {
    const { repo, forge, head, number } = await setup({ 'README.md': '# changed by the PR\n' });
    // An editor saved README.md unchanged: only its timestamp moved.
    const later = new Date(Date.now() + 60_000);
    await utimes(join(repo, 'README.md'), later, later);

    const merged = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(merged).toMatchObject({ kind: 'merged' });
    expect(await readFile(join(repo, 'README.md'), 'utf8')).toBe('# changed by the PR\n');
    await expectCheckoutAtMain(repo);
  });

  it('swaps the base back when the checkout update fails after the base moved', async () => {
    const { repo, stateDir, head, number } = await setup({ 'notes.txt': 'from the PR\n' });
    const before = await checkoutState(repo);
    // The user creates the file after the check passed and the base moved.
    const forge = new LocalForge(repo, stateDir, {
      failpoint: (name) => {
        if (name === 'mid-merge') writeFileSync(join(repo, 'notes.txt'), 'written just now\n');
      },
    });

    const result = await forge.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(result).toMatchObject({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: expect.stringContaining('notes.txt'),
    });
    expect(await git(repo, 'rev-parse', 'main')).toBe(before.main);
    expect(await git(repo, 'write-tree')).toBe(before.index);
    expect(await readFile(join(repo, 'notes.txt'), 'utf8')).toBe('written just now\n');
    expect(await forge.getPullRequest(number)).toMatchObject({ state: 'open' });
  });
});

describe('local merge: a process that dies mid-merge', () => {
  const points: FailpointName[] = ['mid-merge', 'after-merge-before-record'];
  // The next process's first call about the PR, and what it must answer once the merge is done.
  const resumes = {
    getPullRequest: {
      call: (forge: LocalForge, number: number) => forge.getPullRequest(number),
      answer: (main: string) => expect.objectContaining({ state: 'merged', mergedSha: main }),
    },
    merge: {
      call: (forge: LocalForge, number: number, head: string) =>
        forge.merge(number, { expectedHeadSha: head, title: 'a' }),
      answer: (main: string) => ({ kind: 'merged', sha: main }),
    },
  };

  for (const point of points) {
    for (const [how, resume] of Object.entries(resumes)) {
      it(`is merged exactly once by the next process (died at ${point}, next call: ${how})`, async () => {
        const { repo, stateDir, head, number } = await setup({
          'notes.txt': 'from the PR\n',
          'README.md': '# changed\n',
        });
        const dying = new LocalForge(repo, stateDir, {
          failpoint: (name) => {
            if (name === point) throw new Error(`killed at ${name}`);
          },
        });
        await expect(dying.merge(number, { expectedHeadSha: head, title: 'a' })).rejects.toThrow(`killed at ${point}`);

        const next = new LocalForge(repo, stateDir);
        const answer = await resume.call(next, number, head);

        const main = await git(repo, 'rev-parse', 'main');
        expect(answer).toEqual(resume.answer(main));
        expect(await mergesOf(repo, number)).toBe(1);
        expect(await readFile(join(repo, 'notes.txt'), 'utf8')).toBe('from the PR\n');
        await expectCheckoutAtMain(repo);
        // Asking again changes nothing.
        expect(await next.merge(number, { expectedHeadSha: head, title: 'a' })).toEqual({ kind: 'merged', sha: main });
        expect(await git(repo, 'rev-parse', 'main')).toBe(main);
      });
    }
  }

  it('undoes the merge when the next process cannot update the checkout', async () => {
    const { repo, stateDir, base, head, number } = await setup({ 'notes.txt': 'from the PR\n' });
    const dying = new LocalForge(repo, stateDir, {
      failpoint: (name) => {
        if (name === 'mid-merge') throw new Error('killed');
      },
    });
    await expect(dying.merge(number, { expectedHeadSha: head, title: 'a' })).rejects.toThrow('killed');
    // Before the run is resumed, the user puts a file where the PR adds one.
    await writeFile(join(repo, 'notes.txt'), 'my own notes\n');

    const next = new LocalForge(repo, stateDir);
    const result = await next.merge(number, { expectedHeadSha: head, title: 'a' });

    expect(result).toMatchObject({
      kind: 'refused',
      reason: 'checkout-blocked',
      message: expect.stringContaining('notes.txt'),
    });
    expect(await git(repo, 'rev-parse', 'main')).toBe(base);
    expect(await git(repo, 'write-tree')).toBe(await git(repo, 'rev-parse', 'main^{tree}'));
    expect(await git(repo, 'status', '--porcelain')).toBe('?? notes.txt');
    expect(await next.getPullRequest(number)).toMatchObject({ state: 'open' });
  });
});

/** The user's repository and `count` open PRs, each adding a file of its own (`part-<n>.txt`). */
async function setupSeries(count: number) {
  const first = await setup({ 'part-0.txt': 'part 0\n' });
  const prs = [{ number: first.number, head: first.head }];
  for (let n = 1; n < count; n += 1) {
    const worktree = await workspace.createWorktree({
      repoDir: first.repo,
      path: join(first.root, `wt-${n}`),
      branch: `fanout/r/p${n}`,
      baseCommit: first.base,
    });
    await writeFile(join(worktree.path, `part-${n}.txt`), `part ${n}\n`);
    const commit = await workspace.commitChanges(worktree, { message: `p${n}`, author, isAllowed: () => true });
    await workspace.removeWorktree(worktree);
    if (commit.kind !== 'committed') throw new Error('setup commit failed');
    const pr = await first.forge.openPullRequest({
      runId: 'run-1',
      subtaskId: `p${n}`,
      title: `p${n}`,
      body: '',
      branch: `fanout/r/p${n}`,
      base: 'main',
      headSha: commit.commit,
    });
    prs.push({ number: pr.number, head: commit.commit });
  }
  const requests = prs.map((pr) => ({ number: pr.number, expectedHeadSha: pr.head, title: `PR ${pr.number}` }));
  return { ...first, prs, requests };
}

describe('local merge: a series landing at once', () => {
  it('lands every pull request in order on the base, the checkout following, each merged exactly once', async () => {
    const { repo, forge, base, prs, requests } = await setupSeries(3);
    const results = await forge.mergeSeries(requests);
    expect(results.map((result) => result.kind)).toEqual(['merged', 'merged', 'merged']);
    expect(await git(repo, 'rev-list', '--count', `${base}..main`)).toBe('3');
    for (const pr of prs) expect(await mergesOf(repo, pr.number)).toBe(1);
    for (const n of [0, 1, 2]) expect(await readFile(join(repo, `part-${n}.txt`), 'utf8')).toBe(`part ${n}\n`);
    await expectCheckoutAtMain(repo);
  });

  it('lands the pull requests the checkout can take when it cannot take the whole series; only the blocked one is refused', async () => {
    const { repo, forge, base, prs, requests } = await setupSeries(3);
    await writeFile(join(repo, 'part-1.txt'), 'my own file\n');
    const results = await forge.mergeSeries(requests);
    expect(results.map((result) => result.kind)).toEqual(['merged', 'refused', 'merged']);
    expect(results[1]).toMatchObject({
      reason: 'checkout-blocked',
      message: expect.stringMatching(new RegExp(`merging #${prs[1]!.number}: part-1\\.txt`)),
    });
    expect(await git(repo, 'rev-list', '--count', `${base}..main`)).toBe('2');
    expect((await forge.getPullRequest(prs[1]!.number)).state).toBe('open');
    expect(await git(repo, 'status', '--porcelain')).toBe('?? part-1.txt');
    expect(await readFile(join(repo, 'part-2.txt'), 'utf8')).toBe('part 2\n');
  });

  it('merges a pull request asked twice in one series once, answering both alike', async () => {
    const { repo, forge, base, prs, requests } = await setupSeries(2);
    const results = await forge.mergeSeries([requests[0]!, requests[1]!, requests[0]!]);
    expect(results[2]).toEqual(results[0]);
    expect(await git(repo, 'rev-list', '--count', `${base}..main`)).toBe('2');
    for (const pr of prs) expect(await mergesOf(repo, pr.number)).toBe(1);
  });

  for (const point of ['mid-merge', 'after-merge-before-record'] as const) {
    it(`is finished by the next process, every pull request merged exactly once (died at ${point})`, async () => {
      const { repo, stateDir, prs, requests } = await setupSeries(3);
      const dying = new LocalForge(repo, stateDir, {
        failpoint: (name) => {
          if (name === point) throw new Error(`killed at ${name}`);
        },
      });
      await expect(dying.mergeSeries(requests)).rejects.toThrow(`killed at ${point}`);

      const next = new LocalForge(repo, stateDir);
      // The next process asks about the middle one first.
      expect(await next.getPullRequest(prs[1]!.number)).toMatchObject({ state: 'merged' });
      const again = await next.mergeSeries(requests);
      expect(again.map((result) => result.kind)).toEqual(['merged', 'merged', 'merged']);
      const main = await git(repo, 'rev-parse', 'main');
      expect(again[2]).toEqual({ kind: 'merged', sha: main });
      for (const pr of prs) expect(await mergesOf(repo, pr.number)).toBe(1);
      await expectCheckoutAtMain(repo);
    });
  }

  it('is undone whole by the next process when the checkout can no longer take it', async () => {
    const { repo, stateDir, base, prs, requests } = await setupSeries(3);
    const dying = new LocalForge(repo, stateDir, {
      failpoint: (name) => {
        if (name === 'mid-merge') throw new Error('killed');
      },
    });
    await expect(dying.mergeSeries(requests)).rejects.toThrow('killed');
    await writeFile(join(repo, 'part-1.txt'), 'my own file\n');

    const next = new LocalForge(repo, stateDir);
    for (const pr of prs) expect(await next.getPullRequest(pr.number)).toMatchObject({ state: 'open' });
    expect(await git(repo, 'rev-parse', 'main')).toBe(base);
    expect(await git(repo, 'write-tree')).toBe(await git(repo, 'rev-parse', 'main^{tree}'));
    expect(await git(repo, 'status', '--porcelain')).toBe('?? part-1.txt');
  });
});
