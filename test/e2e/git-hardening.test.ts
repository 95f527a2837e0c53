import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const workspace = new GitWorkspace();

/** Plants everything an agent could use to get code run by Fanout's git commands; each writes a marker. */
async function plant(repo: string, worktreePath: string, markers: string): Promise<void> {
  // Filters must echo their input; everything else only leaves its marker.
  const script = async (path: string, name: string) => {
    const body = ['clean', 'smudge', 'textconv'].includes(name) ? 'cat\n' : 'exit 0\n';
    await writeFile(path, `#!/bin/sh\ntouch "${markers}/${name}"\n${body}`);
    await chmod(path, 0o755);
  };
  const hooks = join(repo, '.git/hooks');
  for (const hook of [
    'pre-commit',
    'commit-msg',
    'post-commit',
    'pre-push',
    'post-checkout',
    'reference-transaction',
    'post-index-change',
  ]) {
    await script(join(hooks, hook), `hook-${hook}`);
  }
  const bin = join(markers, '..', 'bin');
  await mkdir(bin, { recursive: true });
  for (const name of ['fsmonitor', 'clean', 'smudge', 'textconv', 'credential', 'included-hook-dir'])
    await script(join(bin, name), name);
  const includedHooks = join(bin, 'hooks');
  await mkdir(includedHooks, { recursive: true });
  await script(join(includedHooks, 'pre-commit'), 'included-pre-commit');
  await writeFile(
    join(bin, 'included.config'),
    `[core]\n\thooksPath = ${includedHooks}\n[filter "sneaky"]\n\tclean = ${bin}/clean\n\tsmudge = ${bin}/smudge\n\trequired = true\n`,
  );
  const gitConfig = (...args: string[]) => exec('git', ['config', ...args], { cwd: worktreePath });
  await gitConfig('core.fsmonitor', join(bin, 'fsmonitor'));
  await gitConfig('filter.evil.clean', join(bin, 'clean'));
  // git splits `-c name=value` at the first '=': a driver named `a=b` dodges `-c` overrides.
  await script(join(bin, 'equals-clean'), 'equals-clean');
  await gitConfig('filter.a=b.clean', join(bin, 'equals-clean'));
  await gitConfig('filter.evil.smudge', join(bin, 'smudge'));
  await gitConfig('diff.evil.textconv', join(bin, 'textconv'));
  await gitConfig('credential.helper', join(bin, 'credential'));
  await gitConfig('include.path', join(bin, 'included.config'));
  await writeFile(
    join(worktreePath, '.gitattributes'),
    '*.js filter=evil diff=evil\n*.md filter=sneaky\n*.json filter=a=b\n',
  );
}

async function rejectingGitServer(): Promise<{ url: string; close: () => void }> {
  const server = createServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`, close: () => server.close() };
}

describe('git hardening', () => {
  it('runs no planted hook, fsmonitor, filter, include or credential helper on commit or push', async () => {
    const root = await tempDir('fanout-harden-');
    const repo = join(root, 'repo');
    const markers = join(root, 'markers');
    await mkdir(markers, { recursive: true });
    await createRepository(repo);
    const base = await workspace.resolveCommit(repo, 'HEAD');
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt'),
      branch: 'fanout/r/s',
      baseCommit: base,
    });
    await plant(repo, worktree.path, markers);
    await writeFile(join(worktree.path, 'src/greet.js'), 'export const greet = (n) => `Hi ${n}`;\n');
    await writeFile(join(worktree.path, 'README.md'), '# changed\n');
    await writeFile(join(worktree.path, 'package.json'), '{"name":"changed"}\n');

    const outcome = await workspace.commitChanges(worktree, {
      message: 'change',
      author: { name: 'Fanout', email: 'f@example.com' },
      isAllowed: () => true,
    });
    expect(outcome).toMatchObject({
      kind: 'committed',
      files: ['.gitattributes', 'README.md', 'package.json', 'src/greet.js'],
    });
    const bare = join(root, 'remote.git');
    await exec('git', ['init', '--bare', '--quiet', bare]);
    await workspace.push(repo, { remoteUrl: bare, refspecs: ['refs/heads/fanout/r/s:refs/heads/fanout/r/s'] });
    const http = await rejectingGitServer();
    await expect(
      workspace.push(repo, { remoteUrl: http.url, refspecs: ['refs/heads/fanout/r/s'] }),
    ).rejects.toMatchObject({ code: 'git-failed' });
    http.close();
    await workspace.removeWorktree(worktree);
    expect(await readdir(markers)).toEqual([]);

    // The control: plain git in the same repository does run what was planted.
    const control = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt2'),
      branch: 'control',
      baseCommit: base,
    });
    await writeFile(join(control.path, 'README.md'), '# control\n');
    await exec('git', ['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-qam', 'control'], {
      cwd: control.path,
    });
    expect((await readdir(markers)).sort()).toEqual(expect.arrayContaining(['fsmonitor', 'included-pre-commit']));
    // The blob committed by Fanout holds the file's real content, not a filter's output.
    const { stdout } = await exec('git', ['show', `${outcome.kind === 'committed' ? outcome.commit : ''}:README.md`], {
      cwd: repo,
    });
    expect(stdout).toBe('# changed\n');
  });

  it('neutralizes drivers planted after Fanout last looked at the config, in the shared or the worktree config', async () => {
    const root = await tempDir('fanout-drivers-late-');
    const repo = join(root, 'repo');
    const markers = join(root, 'markers');
    await mkdir(markers, { recursive: true });
    await createRepository(repo);
    const base = await workspace.resolveCommit(repo, 'HEAD');
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt'),
      branch: 'fanout/r/late',
      baseCommit: base,
    });
    const author = { name: 'Fanout', email: 'f@example.com' };
    const git = (...args: string[]) => exec('git', args, { cwd: worktree.path });
    await git('config', 'extensions.worktreeConfig', 'true');
    await git('config', '--worktree', 'user.name', 'someone');
    const clean = join(root, 'clean.sh');
    await writeFile(clean, `#!/bin/sh\ntouch "${markers}/$1"\necho filtered\n`);
    await chmod(clean, 0o755);
    await writeFile(join(worktree.path, '.gitattributes'), 'README.md filter=late\nsrc/* filter=mine\n');
    let round = 0;
    const commitAndRead = async () => {
      round += 1;
      await writeFile(join(worktree.path, 'README.md'), `# ${round}\n`);
      await writeFile(join(worktree.path, 'src/greet.js'), `// ${round}\n`);
      const outcome = await workspace.commitChanges(worktree, { message: `${round}`, author, isAllowed: () => true });
      const commit = outcome.kind === 'committed' ? outcome.commit : 'none';
      return (await exec('git', ['show', `${commit}:README.md`, `${commit}:src/greet.js`], { cwd: repo })).stdout;
    };
    // Fanout's git has now read this repository's config (no include: nothing stops it remembering).
    expect(await commitAndRead()).toBe('# 1\n// 1\n');
    // Each file changes in place after Fanout last read it.
    await git('config', 'filter.late.clean', `${clean} shared`);
    expect(await commitAndRead()).toBe('# 2\n// 2\n');
    await git('config', '--worktree', 'filter.mine.clean', `${clean} worktree`);
    expect(await commitAndRead()).toBe('# 3\n// 3\n');
    expect(await readdir(markers)).toEqual([]);
  });

  it('commits only in-scope changes on top of the base, even if the agent moved HEAD', async () => {
    const root = await tempDir('fanout-scope-');
    const repo = join(root, 'repo');
    await createRepository(repo);
    const base = await workspace.resolveCommit(repo, 'HEAD');
    const worktree = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'wt'),
      branch: 'fanout/r/a',
      baseCommit: base,
    });
    await writeFile(join(worktree.path, 'src/greet.js'), '// changed\n');
    await writeFile(join(worktree.path, 'package.json'), '{}\n');
    const author = { name: 'Fanout', email: 'f@example.com' };
    const refused = await workspace.commitChanges(worktree, {
      message: 'm',
      author,
      isAllowed: (path) => path.startsWith('src/'),
    });
    expect(refused).toEqual({ kind: 'out-of-scope', paths: ['package.json'], files: ['package.json', 'src/greet.js'] });

    await exec('git', ['checkout', '--quiet', 'HEAD', '--', 'package.json'], { cwd: worktree.path });
    await exec(
      'git',
      [
        '-c',
        'user.name=agent',
        '-c',
        'user.email=a@a',
        '-c',
        'core.hooksPath=/dev/null',
        'commit',
        '--quiet',
        '--allow-empty',
        '-m',
        'agent commit',
      ],
      { cwd: worktree.path },
    );
    const committed = await workspace.commitChanges(worktree, {
      message: 'Subtask',
      author,
      isAllowed: (path) => path.startsWith('src/'),
    });
    expect(committed).toMatchObject({ kind: 'committed', files: ['src/greet.js'] });
    const { stdout: parent } = await exec('git', ['rev-parse', 'fanout/r/a^'], { cwd: repo });
    expect(parent.trim()).toBe(base);
    const { stdout: authorLine } = await exec('git', ['log', '-1', '--format=%an <%ae>', 'fanout/r/a'], { cwd: repo });
    expect(authorLine.trim()).toBe('Fanout <f@example.com>');
    await workspace.removeWorktree(worktree);
  });

  it('prunes worktrees left behind by a crash, and only those', async () => {
    const root = await tempDir('fanout-prune-');
    const repo = join(root, 'repo');
    await createRepository(repo);
    const base = await workspace.resolveCommit(repo, 'HEAD');
    const stale = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'worktrees/run1/a-1'),
      branch: 'fanout/run1/a',
      baseCommit: base,
    });
    const live = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'worktrees/run2/b-1'),
      branch: 'fanout/run2/b',
      baseCommit: base,
    });
    const unrelated = await workspace.createWorktree({
      repoDir: repo,
      path: join(root, 'elsewhere'),
      branch: 'user-branch',
      baseCommit: base,
    });
    const pruned = await workspace.pruneStale(
      repo,
      join(root, 'worktrees'),
      (relativePath) => relativePath === 'run2/b-1',
    );
    expect(pruned).toEqual([stale.path]);
    const { stdout } = await exec('git', ['worktree', 'list', '--porcelain'], { cwd: repo });
    expect(stdout).not.toContain(stale.path);
    expect(stdout).toContain(live.path);
    expect(stdout).toContain(unrelated.path);
    const { stdout: branches } = await exec('git', ['branch', '--list', 'fanout/*'], { cwd: repo });
    expect(branches).toContain('fanout/run1/a');
  });
});
