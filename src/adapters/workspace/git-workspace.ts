import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { WorkspaceError } from '../../domain/errors.js';
import { FANOUT_AUTHOR } from '../../domain/identity.js';
import { isProtectedPath } from '../../domain/protected-paths.js';
import type {
  CommitOutcome,
  CommitRequest,
  MergeOutcome,
  SharedStateGuard,
  Workspace,
  Worktree,
} from '../../ports/workspace.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { execa } from 'execa';
import { systemProgram } from '../system-programs.js';
import { runGit } from './git-cli.js';
import { claimSlot, freeAbandonedSlots, poolDirectory, recordOf, releaseSlot } from './worktree-pool.js';
import { snapshotSharedState } from './shared-state.js';

/** Larger files are refused at commit. */
export const MAX_COMMITTED_FILE_BYTES = 100 * 1024 * 1024;

/**
 * The Workspace port on the git command line.
 *
 * git 2.39 does not survive concurrent changes to a repository's worktree records: an add fails
 * when a record vanishes while it reads them, or when `remove` or `prune` deletes the emptied
 * `.git/worktrees` under it. So Fanout changes records one at a time per repository (across
 * processes too), and removes only its own: the files, then the record (`.git/worktrees/<id>`,
 * whose `gitdir` names them), never the parent.
 */
export class GitWorkspace implements Workspace {
  private readonly commonDirs = new Map<string, Promise<string>>();
  private readonly gitlinks = new Map<string, Promise<string[]>>();
  private readonly recordQueue = new KeyedQueue();

  async listFiles(repoDir: string, commit = 'HEAD'): Promise<string[]> {
    const { stdout } = await runGit(['ls-tree', '-r', '-z', '--name-only', '--full-tree', commit], { cwd: repoDir });
    return stdout.split('\0').filter(Boolean);
  }

  async currentBranch(repoDir: string): Promise<string | null> {
    const { stdout, exitCode } = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], {
      cwd: repoDir,
      allowExitCodes: [1],
    });
    return exitCode === 0 ? stdout.trim() : null;
  }

  async resolveCommit(repoDir: string, ref: string): Promise<string> {
    try {
      const { stdout } = await runGit(['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`], {
        cwd: repoDir,
      });
      return stdout.trim();
    } catch (error) {
      throw new WorkspaceError(
        'ref-not-found',
        `${repoDir} has no commit "${ref}". Is it a git repository with at least one commit?`,
        { cause: error },
      );
    }
  }

  async readFileAt(repoDir: string, commit: string, path: string): Promise<string | null> {
    const { stdout, exitCode } = await runGit(['cat-file', '-p', `${commit}:${path}`], {
      cwd: repoDir,
      allowExitCodes: [128],
    });
    return exitCode === 0 ? stdout : null;
  }

  async createWorktree(request: {
    repoDir: string;
    path: string;
    branch: string;
    baseCommit: string;
  }): Promise<Worktree> {
    return this.addWorktree(request.repoDir, request.path, ['-B', request.branch], request.baseCommit, request.branch);
  }

  async createDetachedWorktree(request: { repoDir: string; path: string; commit: string }): Promise<Worktree> {
    return this.addWorktree(request.repoDir, request.path, ['--detach'], request.commit, '');
  }

  async acquireWorktree(request: {
    repoDir: string;
    poolRoot: string;
    branch: string | null;
    commit: string;
    keepIgnored?: boolean;
  }): Promise<Worktree> {
    const commonDir = await this.commonDir(request.repoDir);
    const slot = await claimSlot(poolDirectory(resolve(request.poolRoot), commonDir));
    try {
      const record = await recordOf(commonDir, slot.path);
      if (record) {
        const worktree: Worktree = {
          repoDir: resolve(request.repoDir),
          path: await realpath(slot.path),
          gitDir: record,
          commonDir,
          branch: request.branch ?? '',
          baseCommit: request.commit,
        };
        const reset = await this.resetWarm(worktree, request.branch, request.commit, request.keepIgnored === true).then(
          () => true,
          () => false,
        );
        if (reset) return worktree;
        // Whatever the last user left that git cannot clean (an unreadable tree): start the slot afresh.
        await this.removeWorktree(worktree).catch(() => undefined);
      } else if (existsSync(slot.path)) {
        await removeTree(slot.path);
      }
      const mode = request.branch ? ['-B', request.branch] : ['--detach'];
      return await this.addWorktree(request.repoDir, slot.path, mode, request.commit, request.branch ?? '');
    } catch (error) {
      await releaseSlot(slot.path);
      throw error;
    }
  }

  async releaseWorktree(worktree: Worktree): Promise<void> {
    await releaseSlot(worktree.path);
  }

  /**
   * Moves a warm worktree to `commit` (on `branch`), discarding everything the last user left;
   * ignored files too unless `keepIgnored` (the caller's preparation deals with them).
   */
  private async resetWarm(
    worktree: Worktree,
    branch: string | null,
    commit: string,
    keepIgnored: boolean,
  ): Promise<void> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    // A branch a released slot still has checked out is no one's any more.
    await runGit(
      [
        'checkout',
        '--quiet',
        '--force',
        '--ignore-other-worktrees',
        ...(branch ? ['-B', branch] : ['--detach']),
        commit,
      ],
      location,
    );
    await runGit(['clean', keepIgnored ? '-ffdq' : '-ffdxq'], location);
  }

  /**
   * Only the record is made under the lock (milliseconds); the files are checked out after it, so
   * a run's worktrees fill in parallel however large the repository.
   */
  private async addWorktree(
    repoDir: string,
    requestedPath: string,
    mode: string[],
    commit: string,
    branch: string,
  ): Promise<Worktree> {
    const path = resolve(requestedPath);
    await mkdir(dirname(path), { recursive: true });
    await this.changingRecords(repoDir, () =>
      runGit(['worktree', 'add', '--no-checkout', '--force', ...mode, path, commit], { cwd: repoDir }),
    );
    const worktree = await this.describe(repoDir, path, branch, commit);
    try {
      await runGit(['reset', '--hard', '--quiet'], {
        cwd: worktree.path,
        gitDir: worktree.gitDir,
        commonDir: worktree.commonDir,
        workTree: worktree.path,
      });
    } catch (error) {
      // The caller never gets this worktree, so it cannot remove it.
      await this.removeWorktree(worktree).catch(() => undefined);
      throw error;
    }
    return worktree;
  }

  /** The worktree record, with symlinks resolved so tools can compare real paths. */
  private async describe(repoDir: string, path: string, branch: string, baseCommit: string): Promise<Worktree> {
    const { stdout } = await runGit(['rev-parse', '--absolute-git-dir'], { cwd: path });
    return {
      repoDir: resolve(repoDir),
      path: await realpath(path),
      gitDir: stdout.trim(),
      commonDir: await this.commonDir(repoDir),
      branch,
      baseCommit,
    };
  }

  async checkoutDetached(worktree: Worktree, commit: string): Promise<void> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    await runGit(['checkout', '--quiet', '--force', '--detach', commit], location);
    // Ignored files (dependency caches) stay; everything else is exactly the commit.
    await runGit(['clean', '-ffdq'], location);
  }

  async mergeInto(worktree: Worktree, commit: string, message: string): Promise<MergeOutcome> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
      env: identityEnv(FANOUT_AUTHOR),
    };
    const head = (await runGit(['rev-parse', 'HEAD'], location)).stdout.trim();
    if (await this.isAncestor(worktree.repoDir, commit, head)) return { kind: 'up-to-date', commit: head };
    const result = await runGit(['merge', '--no-ff', '--no-edit', '-m', message, commit], {
      ...location,
      allowExitCodes: [1],
    });
    if (result.exitCode === 0)
      return { kind: 'merged', commit: (await runGit(['rev-parse', 'HEAD'], location)).stdout.trim() };
    const { stdout } = await runGit(['diff', '--name-only', '--diff-filter=U', '-z'], location);
    await runGit(['merge', '--abort'], location);
    return { kind: 'conflict', files: stdout.split('\0').filter(Boolean) };
  }

  async isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean> {
    if (ancestor === descendant) return true;
    const { exitCode } = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], {
      cwd: repoDir,
      allowExitCodes: [1],
    });
    return exitCode === 0;
  }

  async removeWorktree(worktree: Worktree, options: { deleteBranch?: boolean } = {}): Promise<void> {
    // The files first and outside the lock, however many; then the record, which git reads. The
    // record goes even if the files resist, so a later prune never trusts what is left in it.
    const removed = await removeTree(worktree.path);
    await this.forgetRecord(worktree.repoDir, worktree.gitDir);
    if (options.deleteBranch)
      await runGit(['branch', '-D', worktree.branch], { cwd: worktree.repoDir, allowExitCodes: [1] });
    if (!removed)
      throw new WorkspaceError(
        'worktree-not-removed',
        `Could not delete the worktree ${worktree.path}; delete it by hand.`,
      );
  }

  async pruneStale(
    repoDir: string,
    root: string,
    keep: (relativePath: string) => boolean = () => false,
  ): Promise<string[]> {
    // git records real paths; compare against the real root.
    const absoluteRoot = await realpath(root).catch(() => resolve(root));
    // Pool worktrees held by a dead process are free again (they are reset when next used).
    await freeAbandonedSlots(join(absoluteRoot, 'pool'));
    const records = join(await this.commonDir(repoDir), 'worktrees');
    const removed: string[] = [];
    for (const id of await readdir(records).catch(() => [] as string[])) {
      const gitFile = (await readFile(join(records, id, 'gitdir'), 'utf8').catch(() => '')).trim();
      if (!gitFile) continue;
      // The record's `gitdir` may have been rewritten by an agent (in its own worktree's git dir):
      // only a path that is really (after resolving links) below the root is ever deleted.
      const path = await realpath(dirname(gitFile)).catch(() => null);
      if (!path || !path.startsWith(`${absoluteRoot}/`)) continue;
      const relativePath = path.slice(absoluteRoot.length + 1);
      if (keep(relativePath)) continue;
      await removeTree(path);
      await this.forgetRecord(repoDir, join(records, id));
      removed.push(path);
    }
    return removed;
  }

  /** Deletes a linked worktree's record (`.git/worktrees/<id>`), never anything else. */
  private async forgetRecord(repoDir: string, recordDir: string): Promise<void> {
    if (basename(dirname(recordDir)) !== 'worktrees') return;
    await this.changingRecords(repoDir, () => rm(recordDir, { recursive: true, force: true }));
  }

  /** Runs `change` to the repository's worktree records while no other Fanout change runs. */
  private async changingRecords<T>(repoDir: string, change: () => Promise<T>): Promise<T> {
    const commonDir = await this.commonDir(repoDir);
    return this.recordQueue.run(commonDir, () => withFileLock(join(commonDir, 'fanout-worktrees.lock'), change));
  }

  /** The repository's shared git directory (the main `.git`, also for a worktree's path). */
  private commonDir(repoDir: string): Promise<string> {
    const key = resolve(repoDir);
    let found = this.commonDirs.get(key);
    if (!found) {
      found = runGit(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: key }).then(({ stdout }) =>
        stdout.trim(),
      );
      found.catch(() => this.commonDirs.delete(key));
      this.commonDirs.set(key, found);
    }
    return found;
  }

  async push(
    repoDir: string,
    request: { remoteUrl: string; refspecs: string[]; force?: boolean; authHeader?: string },
  ): Promise<void> {
    // GIT_CONFIG_COUNT keeps the credential out of the process list, where `-c` would show it.
    const env: Record<string, string> = request.authHeader
      ? { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: request.authHeader }
      : {};
    await runGit(
      [
        'push',
        '--porcelain',
        '--no-verify',
        ...(request.force ? ['--force'] : []),
        request.remoteUrl,
        ...request.refspecs,
      ],
      { cwd: repoDir, env },
    );
  }

  async guardSharedState(repoDir: string): Promise<SharedStateGuard> {
    return snapshotSharedState(await this.commonDir(repoDir));
  }

  async changedBetween(repoDir: string, base: string, head: string): Promise<string[]> {
    const { stdout } = await runGit(['diff', '--name-only', '--no-renames', '-z', `${base}...${head}`, '--'], {
      cwd: repoDir,
    });
    return stdout.split('\0').filter(Boolean);
  }

  /** New or changed files larger than a pull request may carry (GitHub refuses files over 100 MB too). */
  private async oversized(paths: readonly string[], worktree: Worktree): Promise<string[]> {
    const large: string[] = [];
    for (const path of paths) {
      const info = await lstat(join(worktree.path, path)).catch(() => null);
      if (info?.isFile() && info.size > MAX_COMMITTED_FILE_BYTES) large.push(path);
    }
    return large;
  }

  async worktreeChanges(worktree: Worktree): Promise<Map<string, string>> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    const { stdout } = await runGit(
      ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=all'],
      location,
    );
    const paths = stdout
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
    const signatures = new Map<string, string>();
    for (const path of paths) {
      const info = await lstat(join(worktree.path, path), { bigint: true }).catch(() => null);
      signatures.set(path, info ? `${info.mode}:${info.size}:${info.mtimeNs}` : 'absent');
    }
    return signatures;
  }

  async changedFiles(worktree: Worktree): Promise<string[]> {
    return (await this.stagedChanges(worktree)).map((change) => change.path);
  }

  /** The gitlinks (submodules) of the worktree's base commit, listed once per base. */
  private gitlinksAt(worktree: Worktree): Promise<string[]> {
    const key = `${worktree.commonDir}\0${worktree.baseCommit}`;
    let listed = this.gitlinks.get(key);
    if (!listed) {
      listed = runGit(['ls-tree', '-r', '-z', '--full-tree', worktree.baseCommit], {
        cwd: worktree.path,
        gitDir: worktree.gitDir,
        commonDir: worktree.commonDir,
        workTree: worktree.path,
      }).then(({ stdout }) =>
        stdout
          .split('\0')
          .filter((entry) => entry.startsWith('160000 commit '))
          .map((entry) => entry.slice(entry.indexOf('\t') + 1)),
      );
      listed.catch(() => this.gitlinks.delete(key));
      this.gitlinks.set(key, listed);
    }
    return listed;
  }

  /** What `git status` lists as changed: modified, staged, deleted or untracked (ignored files excluded). */
  private async statusPaths(worktree: Worktree): Promise<string[]> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    const { stdout } = await runGit(
      ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=all'],
      location,
    );
    return stdout
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
  }

  /**
   * Stages the worktree (only `paths` when given: what status found, plus every gitlink, so a
   * moved submodule is still seen) and lists what differs from the base, with each path's new mode.
   */
  private async stagedChanges(
    worktree: Worktree,
    paths?: readonly string[],
  ): Promise<Array<{ path: string; mode: string }>> {
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    if (paths === undefined) {
      await runGit(['add', '--all', '--', '.'], location);
    } else {
      // Walking a 10,000-file tree again to stage three files is costly; the base's gitlinks are
      // listed once per base (an agent's new nested repository shows in status anyway).
      const gitlinks = await this.gitlinksAt(worktree);
      const listed = [...new Set([...paths, ...gitlinks])];
      if (listed.length > 0) {
        await runGit(['add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], {
          ...location,
          env: { GIT_LITERAL_PATHSPECS: '1' },
          input: listed.join('\0'),
        });
      }
    }
    // Plumbing against the index: object ids only, no working file read again.
    const raw = await runGit(
      ['diff-index', '--cached', '--raw', '--no-renames', '--ignore-submodules=none', '-z', worktree.baseCommit, '--'],
      location,
    );
    // `:<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0`
    const fields = raw.stdout.split('\0');
    const changes: Array<{ path: string; mode: string }> = [];
    for (let index = 0; index + 1 < fields.length; index += 2) {
      changes.push({ path: fields[index + 1]!, mode: fields[index]!.split(' ')[1] ?? '' });
    }
    return changes;
  }

  async commitChanges(worktree: Worktree, request: CommitRequest): Promise<CommitOutcome> {
    // Before `git add` reads them: a sparse 1 TB file costs nothing to make and hours to hash.
    const changed = await this.statusPaths(worktree);
    const large = await this.oversized(changed, worktree);
    if (large.length > 0) return { kind: 'too-large', paths: large, limitBytes: MAX_COMMITTED_FILE_BYTES };
    const changes = await this.stagedChanges(worktree, changed);
    const files = changes.map((change) => change.path);
    if (files.length === 0) return { kind: 'no-changes' };
    // Protected paths are refused here too, whatever the caller allows.
    const outside = files.filter((file) => !request.isAllowed(file) || isProtectedPath(file));
    if (outside.length > 0) return { kind: 'out-of-scope', paths: outside, files };
    const location = {
      cwd: worktree.path,
      gitDir: worktree.gitDir,
      commonDir: worktree.commonDir,
      workTree: worktree.path,
    };
    // A nested repository (gitlink, mode 160000) brings config and drivers of its own into every later checkout.
    const nested = changes.filter((change) => change.mode === '160000').map((change) => change.path);
    if (nested.length > 0) return { kind: 'nested-repositories', paths: nested, files };
    const links = await escapingLinks(worktree.path, files);
    if (links.length > 0) return { kind: 'escaping-links', paths: links, files };
    const { stdout: tree } = await runGit(['write-tree'], location);
    // Plumbing, not `git commit`: no hooks, and the commit sits on the base even if the agent
    // moved HEAD with its own commands.
    const identity = identityEnv(request.author);
    const { stdout: commit } = await runGit(['commit-tree', tree.trim(), '-p', worktree.baseCommit, '-F', '-'], {
      ...location,
      env: identity,
      input: request.message,
    });
    await runGit(['update-ref', `refs/heads/${worktree.branch}`, commit.trim()], location);
    // Re-attach HEAD in case the agent detached it (unless it is where it belongs); the index
    // already holds this tree.
    const head = await readFile(join(worktree.gitDir, 'HEAD'), 'utf8').catch(() => '');
    if (head.trim() !== `ref: refs/heads/${worktree.branch}`) {
      await runGit(['symbolic-ref', 'HEAD', `refs/heads/${worktree.branch}`], location);
    }
    return { kind: 'committed', commit: commit.trim(), files };
  }
}

/**
 * Deletes a directory tree without following links out of it. Node's `rm` fails on very deep trees
 * (ENAMETOOLONG) an agent can make, so `rm -rf --one-file-system` finishes the job. False when it stays.
 */
async function removeTree(path: string): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: true });
    return true;
  } catch {
    const result = await execa(systemProgram('rm'), ['-rf', '--one-file-system', '--', path], {
      reject: false,
      stdin: 'ignore',
      timeout: 10 * 60_000,
    });
    return result.exitCode === 0;
  }
}

/** Changed paths that are symbolic links leading out of the repository or into `.git`, through any chain of links. */
async function escapingLinks(root: string, files: readonly string[]): Promise<string[]> {
  const escaping: string[] = [];
  for (const file of files) {
    const info = await lstat(join(root, file)).catch(() => null);
    if (info?.isSymbolicLink() && !(await resolvesInside(root, file))) escaping.push(file);
  }
  return escaping;
}

const MAX_LINK_HOPS = 40;

/**
 * Follows `path` component by component inside `root`, through every link (existing or not at the
 * end), as a checkout of this tree anywhere would: false when it leaves the root or enters `.git`.
 */
async function resolvesInside(root: string, path: string): Promise<boolean> {
  let pending = path.split('/');
  const current: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return false;
      current.pop();
      continue;
    }
    current.push(part);
    if (current[0] === '.git') return false;
    const here = join(root, ...current);
    const info = await lstat(here).catch(() => null);
    if (!info?.isSymbolicLink()) continue;
    hops += 1;
    const target = await readlink(here);
    if (hops > MAX_LINK_HOPS || posix.isAbsolute(target)) return false;
    current.pop();
    pending = [...target.split('/'), ...pending];
  }
  return true;
}

/** Author and committer variables for one identity. */
export function identityEnv(author: { name: string; email: string }): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}
