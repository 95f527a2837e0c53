import { lstat, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from '../fixtures/npm-fixture.js';
import { environmentHarness, workspace } from '../support/environment-harness.js';

describe('prepared environments: what a worktree also needs', () => {
  it('copy: copies ignored files of the checkout (globs), never through a link, and the worktree stays clean', async () => {
    const h = await environmentHarness({
      config: 'setup: []\ncopy: [.env.test, "config/*.local"]\n',
      extraFiles: { 'config/app.json': '{}\n' },
    });
    await writeFile(join(h.repo, '.env.test'), 'DATABASE_URL=postgres://localhost/test\n');
    await writeFile(join(h.repo, 'config/db.local'), 'local settings\n');
    await writeFile(join(h.root, 'outside-secret'), 'ssh-canary\n');
    await symlink(join(h.root, 'outside-secret'), join(h.repo, 'config/key.local'));
    const worktree = await h.worktree();
    expect(await h.preparer().prepare(worktree)).toMatchObject({ ok: true, environment: 'none' });
    expect(await readFile(join(worktree.path, '.env.test'), 'utf8')).toBe('DATABASE_URL=postgres://localhost/test\n');
    expect(await readFile(join(worktree.path, 'config/db.local'), 'utf8')).toBe('local settings\n');
    expect(await lstat(join(worktree.path, 'config/key.local')).catch(() => null)).toBeNull();
    expect(await git(worktree.path, 'status', '--porcelain')).toBe('');
  });

  it("copy: refuses a file git does not ignore, which the agent's commit would carry", async () => {
    const h = await environmentHarness({ config: 'setup: []\ncopy: [private/notes.txt]\n' });
    // Ignored in the checkout by an untracked .gitignore, which the worktree does not have.
    await mkdir(join(h.repo, 'private'));
    await writeFile(join(h.repo, 'private/.gitignore'), '*\n');
    await writeFile(join(h.repo, 'private/notes.txt'), 'mine\n');
    const result = await h.preparer().prepare(await h.worktree());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(
      "copied files git does not ignore, so they would be committed with the agent's work: private/notes.txt",
    );
  });

  it('copied files reach setup, are copied fresh into reused worktrees, and a changed one sets up again', async () => {
    const h = await environmentHarness({ config: 'setup:\n  - cp .env.test .env.seen-by-setup\ncopy: [.env.test]\n' });
    await writeFile(join(h.repo, '.env.test'), 'one\n');
    const first = await h.worktree();
    expect(await h.preparer().prepare(first)).toMatchObject({ environment: 'built' });
    const second = await h.worktree();
    expect(await h.preparer().prepare(second)).toMatchObject({ environment: 'reused' });
    expect(await readFile(join(second.path, '.env.seen-by-setup'), 'utf8')).toBe('one\n');
    expect(await readFile(join(second.path, '.env.test'), 'utf8')).toBe('one\n');
    await writeFile(join(h.repo, '.env.test'), 'two\n');
    const third = await h.worktree();
    expect(await h.preparer().prepare(third)).toMatchObject({ environment: 'built' });
    expect(await readFile(join(third.path, '.env.seen-by-setup'), 'utf8')).toBe('two\n');
    expect(h.runner.count('cp .env.test')).toBe(2);
  });

  it("a commit holding agents' work reuses the base's environment when its inputs match, and otherwise sets up without credentials, network or caching", async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - if test -f ~/.npmrc; then echo yes; else echo no; fi > .env.registry-seen\n',
    });
    const base = await h.worktree();
    expect(await h.preparer().prepare(base)).toMatchObject({ environment: 'built' });
    expect(await readFile(join(base.path, '.env.registry-seen'), 'utf8')).toBe('yes\n');
    await writeFile(join(h.repo, 'README.md'), '# app, changed by an agent\n');
    await git(h.repo, 'commit', '--quiet', '-am', 'agent: readme');
    const sameInputs = await h.worktree(await git(h.repo, 'rev-parse', 'HEAD'));
    expect(await h.preparer().prepare(sameInputs)).toMatchObject({ environment: 'reused' });
    await writeFile(join(h.repo, 'requirements.txt'), 'requests==2.0\n');
    await git(h.repo, 'add', 'requirements.txt');
    await git(h.repo, 'commit', '--quiet', '-m', 'agent: a dependency');
    const changedInputs = await h.worktree(await git(h.repo, 'rev-parse', 'HEAD'));
    expect(await h.preparer().prepare(changedInputs)).toMatchObject({ environment: 'built-uncached' });
    expect(await readFile(join(changedInputs.path, '.env.registry-seen'), 'utf8')).toBe('no\n');
    const setups = h.runner.requests.filter((request) => request.argv.join(' ').includes('registry-seen'));
    expect(setups.map((request) => request.network)).toEqual([true, false]);
    expect((await readdir(h.cacheDir)).filter((name) => /^[0-9a-f]{40}$/.test(name))).toHaveLength(1);
  });

  it("initializes submodules from the checkout's module store, offline, without touching the shared config", async () => {
    const h = await environmentHarness({ config: 'setup: []\n' });
    const library = join(h.root, 'library');
    await mkdir(library);
    await writeFile(join(library, 'lib.txt'), 'from the submodule\n');
    await git(library, 'init', '--quiet', '--initial-branch=main');
    await git(library, 'add', '--all');
    await git(library, 'commit', '--quiet', '-m', 'library');
    await git(h.repo, 'submodule', '--quiet', 'add', library, 'vendor/library');
    await git(h.repo, 'commit', '--quiet', '-m', 'add a submodule');
    // The submodule's origin is gone: only the checkout's module store has it.
    await rm(library, { recursive: true, force: true });
    const sharedConfig = await readFile(join(h.repo, '.git/config'), 'utf8');
    const head = await git(h.repo, 'rev-parse', 'HEAD');
    const worktree = await h.worktree(head);
    expect(await h.preparer({ trustedCommit: head }).prepare(worktree)).toMatchObject({ ok: true, notes: [] });
    expect(await readFile(join(worktree.path, 'vendor/library/lib.txt'), 'utf8')).toBe('from the submodule\n');
    expect(await git(join(worktree.path, 'vendor/library'), 'rev-parse', 'HEAD')).toBe(
      await git(h.repo, 'rev-parse', 'HEAD:vendor/library'),
    );
    expect(await git(worktree.path, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(h.repo, '.git/config'), 'utf8')).toBe(sharedConfig);
    await workspace.removeWorktree(worktree);
    expect(await git(h.repo, 'worktree', 'list', '--porcelain')).not.toContain('worktrees/w-');
  });

  it('leaves a submodule the checkout never fetched empty, and says so', async () => {
    const h = await environmentHarness({ config: 'setup: []\n' });
    const library = join(h.root, 'library');
    await mkdir(library);
    await writeFile(join(library, 'lib.txt'), 'x\n');
    await git(library, 'init', '--quiet', '--initial-branch=main');
    await git(library, 'add', '--all');
    await git(library, 'commit', '--quiet', '-m', 'library');
    await git(h.repo, 'submodule', '--quiet', 'add', library, 'vendor/library');
    await git(h.repo, 'commit', '--quiet', '-m', 'add a submodule');
    await rm(join(h.repo, '.git/modules'), { recursive: true, force: true });
    const head = await git(h.repo, 'rev-parse', 'HEAD');
    const result = await h.preparer({ trustedCommit: head }).prepare(await h.worktree(head));
    expect(result.ok && result.notes[0]).toMatch(
      /^submodule vendor\/library left empty: the checkout has no copy of commit [0-9a-f]{12}/,
    );
  });
});
