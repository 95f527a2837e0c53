import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Worktree } from '../../ports/workspace.js';
import { runGit } from './git-cli.js';

/** A submodule name or path git itself would accept: relative, no `..`, no `.git` (CVE-2018-11235). */
function safeRelative(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && part.toLowerCase() !== '.git');
}

/**
 * The git operations that prepare a worktree (see `PreparationGit` in src/environment), on
 * Fanout's hardened git: hooks, filters and drivers disabled, no system or global config, and a
 * time limit. Submodules come from the user's checkout's module store by a local clone (objects
 * hard-linked), never from the network; nothing is written to the shared repository.
 */
export class PreparationGitCli {
  async headCommit(worktree: Worktree): Promise<string> {
    const { stdout } = await runGit(['rev-parse', '--verify', 'HEAD^{commit}'], location(worktree));
    return stdout.trim();
  }

  async treeEntries(repoDir: string, commit: string): Promise<Array<{ path: string; mode: string; object: string }>> {
    const { stdout } = await runGit(['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: repoDir });
    return stdout
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        const [mode = '', , object = ''] = line.slice(0, tab).split(' ');
        return { path: line.slice(tab + 1), mode, object };
      });
  }

  async ignoredPaths(worktree: Worktree): Promise<string[]> {
    const { stdout } = await runGit(
      ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'],
      location(worktree),
    );
    return stdout.split('\0').filter(Boolean);
  }

  async uncommittedPaths(worktree: Worktree): Promise<string[]> {
    const { stdout } = await runGit(
      ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=all'],
      location(worktree),
    );
    return stdout
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
  }

  async removeIgnored(worktree: Worktree, keep: readonly string[] = []): Promise<void> {
    // A negated ignore rule per kept path: to `clean -X` it is no longer ignored, so it stays.
    await runGit(
      ['clean', '-ffdqX', ...keep.flatMap((path) => ['-e', `!/${escapeIgnorePattern(path)}`])],
      location(worktree),
    );
  }

  async ignoredFiles(repoDir: string, globs: readonly string[]): Promise<string[]> {
    if (globs.length === 0) return [];
    // A bare clone (the App's) has no work tree and so no ignored files: exit 128, nothing listed.
    const { stdout, exitCode } = await runGit(
      ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--', ...globs.map((glob) => `:(glob)${glob}`)],
      { cwd: repoDir, allowExitCodes: [128] },
    );
    return exitCode === 0 ? stdout.split('\0').filter(Boolean) : [];
  }

  async submodules(repoDir: string, commit: string): Promise<Array<{ name: string; path: string }>> {
    const { stdout, exitCode } = await runGit(
      ['config', '-z', `--blob=${commit}:.gitmodules`, '--get-regexp', '^submodule\\..*\\.path$'],
      { cwd: repoDir, allowExitCodes: [1, 128] },
    );
    if (exitCode !== 0) return [];
    return stdout
      .split('\0')
      .filter(Boolean)
      .map((record) => {
        const newline = record.indexOf('\n');
        const key = record.slice(0, newline);
        return { name: key.slice('submodule.'.length, -'.path'.length), path: record.slice(newline + 1) };
      })
      .filter((submodule) => safeRelative(submodule.name) && safeRelative(submodule.path));
  }

  async checkoutSubmodule(
    worktree: Worktree,
    submodule: { name: string; path: string; commit: string },
  ): Promise<boolean> {
    if (!safeRelative(submodule.name) || !safeRelative(submodule.path) || !/^[0-9a-f]{40,64}$/.test(submodule.commit))
      return false;
    const store = join(worktree.commonDir, 'modules', submodule.name);
    if (!(await isRealDirectory(store))) return false;
    const known = await runGit(['cat-file', '-e', `${submodule.commit}^{commit}`], {
      cwd: store,
      gitDir: store,
      allowExitCodes: [1, 128],
    });
    if (known.exitCode !== 0) return false;
    // git made an empty directory for the submodule; anything else (a link) is not written through.
    const target = join(worktree.path, submodule.path);
    if (!(await realDirectoriesBelow(worktree.path, submodule.path)) || (await readdir(target)).length > 0)
      return false;
    // The submodule's git dir lives in the worktree's own git dir, so it goes with the worktree.
    const gitDir = join(worktree.gitDir, 'modules', submodule.name);
    await rm(gitDir, { recursive: true, force: true });
    await mkdir(dirname(gitDir), { recursive: true });
    await runGit(['clone', '--quiet', '--no-checkout', `--separate-git-dir=${gitDir}`, '--', store, target], {
      cwd: store,
    });
    await runGit(['checkout', '--quiet', '--force', '--detach', submodule.commit], {
      cwd: target,
      gitDir,
      workTree: target,
    });
    return true;
  }
}

function location(worktree: Worktree) {
  return { cwd: worktree.path, gitDir: worktree.gitDir, commonDir: worktree.commonDir, workTree: worktree.path };
}

async function isRealDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isDirectory() === true;
}

/** True when every component of `relative` under `root` is a directory, not a link. */
async function realDirectoriesBelow(root: string, relative: string): Promise<boolean> {
  let current = root;
  for (const part of relative.split('/')) {
    current = join(current, part);
    if (!(await isRealDirectory(current))) return false;
  }
  return true;
}

/** A path as a literal gitignore pattern: wildcards, brackets, backslashes and a leading `#` or `!` escaped. */
function escapeIgnorePattern(path: string): string {
  return path.replace(/[\\*?[\]!#]/g, (char) => `\\${char}`).replace(/ $/, '\\ ');
}
