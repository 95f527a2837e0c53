import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { BwrapCommandRunner, defaultHiddenPaths, SYSTEM_PATHS } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { toolchainPaths } from '../../src/adapters/command/toolchain-paths.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { CommandRequest } from '../../src/ports/command-runner.js';
import type { Worktree } from '../../src/ports/workspace.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const workspace = new GitWorkspace();

const git = (cwd: string, ...args: string[]) =>
  exec('git', ['-c', 'user.name=u', '-c', 'user.email=u@u', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });

function runner(options: { toolPaths?: string[]; hiddenPaths?: string[] } = {}) {
  return new BwrapCommandRunner(new ProcessCommandRunner(), {
    hiddenPaths: options.hiddenPaths ?? [],
    toolPaths: options.toolPaths ?? [],
    canDisableUserns: sandboxSupport().bwrapDisablesUserns,
  });
}

function inWorktree(worktree: Worktree, line: string, extra: Partial<CommandRequest> = {}): CommandRequest {
  return {
    argv: ['bash', '-c', line],
    cwd: worktree.path,
    timeoutMs: 20_000,
    outputLimit: 20_000,
    git: { gitDir: worktree.gitDir, commonDir: worktree.commonDir },
    ...extra,
  };
}

/** A user's checkout with an untracked `.env` and a token in its git config, and a Fanout worktree of it (all under /tmp). */
async function checkoutWithSecrets() {
  const root = await tempDir('fanout-sandbox-');
  const repo = join(root, 'checkout');
  await createRepository(repo, SAMPLE_FILES);
  await writeFile(join(repo, '.env'), 'API_TOKEN=checkout-canary\n');
  await git(repo, 'remote', 'add', 'origin', 'https://x-access-token:config-canary@github.com/o/r.git');
  const base = await workspace.resolveCommit(repo, 'main');
  const worktree = await workspace.createWorktree({
    repoDir: repo,
    path: join(root, 'worktrees', 'a-1'),
    branch: 'fanout/r/a',
    baseCommit: base,
  });
  return { root, repo, worktree };
}

describeWithSandbox('bubblewrap sandbox: what an agent command can see', 'bwrap', () => {
  it("sees none of the user's home, not even beside a tool installed there", async () => {
    const home = join(await tempDir('fanout-home-'), 'user');
    await mkdir(join(home, '.nvm/versions/node/v20/bin'), { recursive: true });
    await writeFile(join(home, '.nvm/versions/node/v20/bin/tool'), '#!/bin/sh\necho tool-ran\n', { mode: 0o755 });
    await mkdir(join(home, '.nvm/.cache'), { recursive: true });
    await writeFile(join(home, '.nvm/.cache/token'), 'nvm-canary');
    await writeFile(join(home, '.gitconfig'), '[credential]\n\thelper = store\n[user]\n\tname = home-canary\n');
    await mkdir(join(home, '.ssh'));
    await writeFile(join(home, '.ssh/id_rsa'), 'ssh-canary');
    const toolPaths = toolchainPaths(join(home, '.nvm/versions/node/v20/bin'), { home, systemPaths: SYSTEM_PATHS });
    const { worktree } = await checkoutWithSecrets();
    const result = await runner({ toolPaths, hiddenPaths: [join(home, '.nvm/.cache')] }).run(
      inWorktree(
        worktree,
        `${home}/.nvm/versions/node/v20/bin/tool; cat ${home}/.gitconfig ${home}/.ssh/id_rsa ${home}/.nvm/.cache/token; ls -a ${home}; git config --list --show-origin`,
      ),
    );
    expect(result.stdout).toContain('tool-ran');
    for (const canary of ['home-canary', 'ssh-canary', 'nvm-canary'])
      expect(result.stdout + result.stderr).not.toContain(canary);
  });

  it("sees none of the checkout's files and none of its git config's secrets, and git still works", async () => {
    const { repo, worktree } = await checkoutWithSecrets();
    await writeFile(join(worktree.path, 'src/greet.js'), 'changed\n');
    const result = await runner().run(
      inWorktree(
        worktree,
        `cat ${repo}/.env; ls -a ${repo}; git config --list; git status --porcelain; echo "status:$?"; git log --oneline | wc -l; git config core.hooksPath /tmp/evil; echo "config-write:$?"`,
      ),
    );
    expect(result.stdout + result.stderr).not.toContain('checkout-canary');
    expect(result.stdout + result.stderr).not.toContain('config-canary');
    expect(result.stdout).toContain(' M src/greet.js');
    expect(result.stdout).toContain('status:0');
    expect(result.stdout).not.toContain('config-write:0');
    expect(await readFile(join(repo, '.git/config'), 'utf8')).not.toContain('hooksPath');
  });
});

describeWithSandbox('bubblewrap sandbox: the git directories Fanout trusts', 'bwrap', () => {
  it("cannot rewrite its worktree's git directory (commondir, gitdir, index), which Fanout's own git reads", async () => {
    const { worktree } = await checkoutWithSecrets();
    const before = await readFile(join(worktree.gitDir, 'commondir'), 'utf8');
    const result = await runner().run(
      inWorktree(
        worktree,
        'd=$(git rev-parse --git-dir); echo /tmp/fake > "$d/commondir"; echo "commondir:$?"; echo /etc/x/.git > "$d/gitdir"; echo "gitdir:$?"; touch "$(git rev-parse --git-common-dir)/objects/x"; echo "objects:$?"',
      ),
    );
    for (const probe of ['commondir', 'gitdir', 'objects']) expect(result.stdout).not.toContain(`${probe}:0`);
    expect(await readFile(join(worktree.gitDir, 'commondir'), 'utf8')).toBe(before);
  });

  it("sees no submodule git config, stash or reflog of the user's repository (they keep tokens and untracked files)", async () => {
    const { repo, worktree } = await checkoutWithSecrets();
    await mkdir(join(repo, '.git/modules/vendored'), { recursive: true });
    await writeFile(
      join(repo, '.git/modules/vendored/config'),
      '[http]\n\textraheader = AUTHORIZATION: basic submodule-canary\n',
    );
    await writeFile(join(repo, 'notes.txt'), 'stash-canary\n');
    await git(repo, 'stash', '-u', '-q');
    // `git gc` moves refs/stash into packed-refs: hidden there too.
    await git(repo, 'pack-refs', '--all');
    const result = await runner().run(
      inWorktree(
        worktree,
        `cat ${worktree.commonDir}/modules/vendored/config; git stash list; git log -g --oneline -n 3 main; git show 'stash@{0}^3:notes.txt'; git show 'refs/stash^3:notes.txt'; grep stash ${worktree.commonDir}/packed-refs; ls ${worktree.commonDir}/logs`,
      ),
    );
    expect(result.stdout + result.stderr).not.toContain('submodule-canary');
    expect(result.stdout + result.stderr).not.toContain('stash-canary');
    expect(result.stdout.trim()).toBe('');
  });

  it('hides the system credential files when Fanout runs as root', async () => {
    const dir = await tempDir();
    const result = await runner({ hiddenPaths: defaultHiddenPaths() }).run({
      argv: ['bash', '-c', 'cat /etc/shadow | wc -c'],
      cwd: dir,
      timeoutMs: 10_000,
      outputLimit: 1_000,
    });
    expect(result.stdout.trim()).toBe('0');
  });
});

describeWithSandbox('bubblewrap sandbox: git in unusual repositories', 'bwrap', () => {
  it('works for a repository under /tmp (the private /tmp does not hide it)', async () => {
    const { worktree } = await checkoutWithSecrets();
    expect(worktree.commonDir.startsWith('/tmp/')).toBe(true);
    const result = await runner().run(inWorktree(worktree, 'git status --porcelain && git rev-parse HEAD'));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(worktree.baseCommit);
  });

  it('works for a submodule, whose git directory lives in the superproject', async () => {
    const root = await tempDir('fanout-submodule-');
    await createRepository(join(root, 'library'), { 'lib.js': 'export const x = 1;\n' });
    await createRepository(join(root, 'super'), { 'README.md': '# super\n' });
    await git(join(root, 'super'), 'submodule', 'add', '--quiet', join(root, 'library'), 'library');
    const checkout = join(root, 'super', 'library');
    const base = await workspace.resolveCommit(checkout, 'HEAD');
    const worktree = await workspace.createWorktree({
      repoDir: checkout,
      path: join(root, 'worktrees', 'lib-1'),
      branch: 'fanout/r/lib',
      baseCommit: base,
    });
    expect(worktree.commonDir).toBe(join(root, 'super', '.git', 'modules', 'library'));
    await writeFile(join(worktree.path, 'lib.js'), 'export const x = 2;\n');
    const result = await runner().run(
      inWorktree(worktree, 'git status --porcelain; echo "status:$?"; git diff --stat'),
    );
    expect(result.stdout).toContain('status:0');
    expect(result.stdout).toContain(' M lib.js');
    expect(result.stdout).toContain('1 file changed');
  });
});
