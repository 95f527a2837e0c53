import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WorkspaceError } from '../../domain/errors.js';
import { FANOUT_AUTHOR } from '../../domain/identity.js';
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
import { runGit, runSystemProgram, type GitOptions } from './git-cli.js';
import {
  claimSlot,
  freeAbandonedSlots,
  markTidy,
  poolDirectory,
  recordOf,
  releaseSlot,
  takeTidy,
  holdsSlot,
  type PoolSlot,
  type TidySlot,
} from './worktree-pool.js';
import { snapshotSharedState } from './shared-state.js';
import {
  commitWorktree,
  baseTreeOf,
  type BaseTree,
  statusPaths,
  identityEnv,
  stagedChanges,
  worktreeChanges,
  worktreeGit,
} from './worktree-commit.js';

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
  /**
   * `trustTidySlots`: nothing but Fanout writes in a pool slot between its tidy and its next claim
   * (commands run confined: no process outlives them), so a tidy mark is taken at its word;
   * otherwise a claim checks with `git status` that the slot is still clean.
   */
  constructor(private readonly options: { trustTidySlots?: boolean } = {}) {}

  private readonly commonDirs = new Map<string, Promise<string>>();
  private readonly baseTrees = new Map<string, Promise<BaseTree>>();
  private readonly moves = new Map<string, Promise<boolean>>();
  private readonly recordQueue = new KeyedQueue();
  /**
   * Slots held by background work (a released worktree being tidied, a slot being readied), by
   * key: claims in `pool` (the pool directory's real path) wait for them rather than make a new
   * worktree.
   */
  private readonly tidying = new Map<string, { pool: string; done: Promise<void> }>();
  /** All background pool work, for `settled()`. */
  private readonly background = new Set<Promise<void>>();
  /** Pool worktrees handed out, by path: their slot, and whether their user keeps ignored files (the tidy does too). */
  private readonly handedOut = new Map<string, { slot: PoolSlot; keptIgnored: boolean }>();
  private nextWarming = 0;

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
    const slot = await this.claimPoolSlot(poolDirectory(resolve(request.poolRoot), commonDir));
    const keepIgnored = request.keepIgnored === true;
    try {
      const record = await recordOf(commonDir, slot.path);
      const tidy = await takeTidy(slot.path);
      if (record) {
        const worktree: Worktree = {
          repoDir: resolve(request.repoDir),
          path: await realpath(slot.path),
          gitDir: record,
          commonDir,
          branch: request.branch ?? '',
          baseCommit: request.commit,
        };
        const reset = await this.resetWarm(worktree, request.branch, request.commit, keepIgnored, tidy).then(
          (ignoredLeft) => ({ ignoredLeft }),
          () => null,
        );
        if (reset) {
          this.handedOut.set(worktree.path, { slot, keptIgnored: keepIgnored });
          return reset.ignoredLeft ? worktree : { ...worktree, withoutIgnoredFiles: true };
        }
        // Whatever the last user left that git cannot clean (an unreadable tree): start the slot afresh.
        await this.removeWorktree(worktree).catch(() => undefined);
      } else if (existsSync(slot.path)) {
        await removeTree(slot.path);
      }
      const mode = request.branch ? ['-B', request.branch] : ['--detach'];
      const worktree = await this.addWorktree(request.repoDir, slot.path, mode, request.commit, request.branch ?? '');
      this.handedOut.set(worktree.path, { slot, keptIgnored: keepIgnored });
      return { ...worktree, withoutIgnoredFiles: true };
    } catch (error) {
      await releaseSlot(slot);
      throw error;
    }
  }

  /**
   * Hands the worktree back, tidied off the caller's path: reset to the commit it started from and
   * cleaned, then marked tidy, so the next user at that commit (the run's next agent) only switches
   * branch. The slot stays held until then; `settled()` waits for every tidy under way.
   */
  async releaseWorktree(worktree: Worktree, options: { committedAll?: boolean } = {}): Promise<void> {
    const handed = this.handedOut.get(worktree.path);
    if (!handed) return;
    this.handedOut.delete(worktree.path);
    const { slot, keptIgnored } = handed;
    const done = this.tidy(worktree, slot, keptIgnored, options.committedAll === true)
      .catch(() => undefined)
      .finally(async () => {
        await releaseSlot(slot);
        this.tidying.delete(worktree.path);
      });
    this.tidying.set(worktree.path, { pool: dirname(worktree.path), done });
    this.inBackground(done);
  }

  /**
   * Readies up to `count` pool slots at `commit` in the background (made if missing, else reset
   * and cleaned), each marked tidy, so the next claims at that commit only switch branch. Slots
   * in use are left alone; claims arriving meanwhile wait for these rather than make new ones.
   */
  warmPool(request: { repoDir: string; poolRoot: string; commit: string; count: number; keepIgnored?: boolean }): void {
    const keepIgnored = request.keepIgnored === true;
    const key = `warm:${this.nextWarming++}`;
    let claimed!: () => void;
    const claiming = new Promise<void>((resolve) => (claimed = resolve));
    // Until its pool is known, claims in every pool wait (milliseconds): none slips in first.
    this.tidying.set(key, { pool: ANY_POOL, done: claiming });
    const readies: Array<Promise<void>> = [];
    const work = (async () => {
      try {
        const commonDir = await this.commonDir(request.repoDir);
        const directory = poolDirectory(resolve(request.poolRoot), commonDir);
        const pool = await realPool(directory);
        // Until the slots are claimed, claims in this pool wait; then each waits for its own slot.
        this.tidying.set(key, { pool, done: claiming });
        for (let n = 0; n < request.count; n += 1) {
          const slot = await claimSlot(directory, { create: true });
          if (!slot) break;
          const slotKey = `${key}:${slot.path}`;
          const ready = this.readySlot(request.repoDir, commonDir, slot, request.commit, keepIgnored)
            .catch(() => undefined)
            .finally(async () => {
              await releaseSlot(slot);
              this.tidying.delete(slotKey);
            });
          this.tidying.set(slotKey, { pool, done: ready });
          readies.push(ready);
        }
      } finally {
        this.tidying.delete(key);
        claimed();
      }
      await Promise.all(readies);
    })().catch(() => undefined);
    this.inBackground(work);
  }

  /** Makes or resets a claimed slot's worktree at `commit`, cleaned, and marks it tidy. */
  private async readySlot(
    repoDir: string,
    commonDir: string,
    slot: PoolSlot,
    commit: string,
    keepIgnored: boolean,
  ): Promise<void> {
    const tidy = await takeTidy(slot.path);
    const record = await recordOf(commonDir, slot.path);
    let worktree: Worktree;
    if (record) {
      worktree = {
        repoDir: resolve(repoDir),
        path: await realpath(slot.path),
        gitDir: record,
        commonDir,
        branch: '',
        baseCommit: commit,
      };
      await this.resetWarm(worktree, null, commit, keepIgnored, tidy);
    } else {
      if (existsSync(slot.path)) await removeTree(slot.path);
      worktree = await this.addWorktree(repoDir, slot.path, ['--detach'], commit, '');
    }
    await markTidy(slot, { commit, keptIgnored: keepIgnored, ...(await slotState(worktree)) });
  }

  /** Resolves once every worktree released so far has been tidied and handed back to its pool. */
  async settled(): Promise<void> {
    await Promise.all(this.background);
  }

  private inBackground(work: Promise<void>): void {
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  private async tidy(worktree: Worktree, slot: PoolSlot, keptIgnored: boolean, committedAll: boolean): Promise<void> {
    // A slot whose lock was taken over (its holder looked dead) is someone else's now: hands off.
    if (!(await holdsSlot(slot))) return;
    const location = { ...worktreeGit(worktree), background: true };
    // Going back to the base removes what the last commit added; with everything committed, no
    // untracked file is left for a clean to find (it would walk the whole tree to learn that).
    await runGit(['checkout', '--quiet', '--force', '--detach', worktree.baseCommit], location);
    if (!committedAll) await runGit(['clean', keptIgnored ? '-ffdq' : '-ffdxq'], location);
    await markTidy(slot, { commit: worktree.baseCommit, keptIgnored, ...(await slotState(worktree)) });
  }

  /** A free slot of the pool; rather than make a new worktree, waits for one this process is tidying. */
  private async claimPoolSlot(directory: string): Promise<PoolSlot> {
    const pool = await realPool(directory);
    for (;;) {
      const tidying = [...this.tidying.values()].filter((work) => work.pool === pool || work.pool === ANY_POOL);
      const slot = await claimSlot(directory, { create: tidying.length === 0 });
      if (slot) return slot;
      await Promise.race(tidying.map((work) => work.done));
    }
  }

  /**
   * Moves a warm worktree to `commit` (on `branch`), discarding everything the last user left;
   * ignored files too unless `keepIgnored` (the caller's preparation deals with them). A slot its
   * last tidy left at this very commit, untouched since, only needs the branch. Resolves to
   * whether ignored files may be left in it.
   */
  private async resetWarm(
    worktree: Worktree,
    branch: string | null,
    commit: string,
    keepIgnored: boolean,
    tidy: TidySlot | null,
  ): Promise<boolean> {
    const location = worktreeGit(worktree);
    const current = tidy ? await slotState(worktree) : null;
    // Left clean by its last tidy, and untouched since.
    const clean =
      tidy !== null &&
      current !== null &&
      (keepIgnored || !tidy.keptIgnored) &&
      tidy.head === current.head &&
      tidy.index === current.index &&
      (this.options.trustTidySlots === true || (await statusPaths(worktree)).length === 0);
    if (clean && tidy.commit === commit) {
      if (branch) {
        await runGit(['update-ref', `refs/heads/${branch}`, commit], location);
        // The worktree's own HEAD, in its private git dir, which nothing else reads or writes while
        // the slot is held: written directly, it saves a git process.
        await replaceFile(join(worktree.gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`);
      }
      return tidy.keptIgnored || this.options.trustTidySlots !== true;
    }
    // Asked while the checkout runs (and once per pair of commits: a run's slots all make the same move).
    const moveKeepsClean = clean ? this.sameIgnoresAndSubmodules(location, tidy.commit, commit) : null;
    moveKeepsClean?.catch(() => undefined);
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
    // A clean worktree moved to another commit is still clean, unless the move changed what git
    // ignores (a kept ignored file would turn untracked) or removed a submodule (its checkout stays).
    const stillClean = clean && (await moveKeepsClean!);
    if (!stillClean) await runGit(['clean', keepIgnored ? '-ffdq' : '-ffdxq'], location);
    // Untrusted, a slot may have gained ignored files since its tidy: status does not show them.
    return stillClean ? tidy.keptIgnored || this.options.trustTidySlots !== true : keepIgnored;
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
      await runGit(['reset', '--hard', '--quiet'], worktreeGit(worktree));
      await settleTimestamps(worktree);
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
    const location = worktreeGit(worktree);
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

  async worktreeChanges(worktree: Worktree): Promise<Map<string, string>> {
    return worktreeChanges(worktree);
  }

  async changedFiles(worktree: Worktree): Promise<string[]> {
    return (await stagedChanges(worktree)).map((change) => change.path);
  }

  async commitChanges(worktree: Worktree, request: CommitRequest): Promise<CommitOutcome> {
    return commitWorktree(worktree, request, () => this.baseTreeAt(worktree));
  }

  /** Whether moving between two commits leaves a clean worktree clean (see sameIgnoresAndSubmodules), asked once per pair. */
  private sameIgnoresAndSubmodules(location: GitOptions, from: string, to: string): Promise<boolean> {
    const key = `${location.commonDir ?? location.cwd}\0${from}\0${to}`;
    let answer = this.moves.get(key);
    if (!answer) {
      answer = sameIgnoresAndSubmodules(location, from, to);
      answer.catch(() => this.moves.delete(key));
      remember(this.moves, key, answer);
    }
    return answer;
  }

  /** The paths and gitlinks (submodules) of the worktree's base commit, listed once per base. */
  private baseTreeAt(worktree: Worktree): Promise<BaseTree> {
    const key = `${worktree.commonDir}\0${worktree.baseCommit}`;
    let listed = this.baseTrees.get(key);
    if (!listed) {
      listed = baseTreeOf(worktree);
      listed.catch(() => this.baseTrees.delete(key));
      remember(this.baseTrees, key, listed);
    }
    return listed;
  }
}

/**
 * git compares file times in whole seconds: files written in the same second as the index are
 * "racily clean", and every later status, add or diff reads each of them again (85 ms instead of
 * 15 for 10,000 files, in every command of the worktree's first user). A fresh checkout's files
 * get times two seconds back and the index is refreshed once, after which only real changes are
 * read. Any change made later gets a later time, so none goes unseen.
 */
async function settleTimestamps(worktree: Worktree): Promise<void> {
  const location = worktreeGit(worktree);
  const { stdout } = await runGit(['ls-files', '-z'], location);
  const past = Math.floor(Date.now() / 1000) - 2;
  // One `touch` for thousands of files costs less than as many calls from here. -h: links
  // themselves, never their targets; -c: nothing is created.
  await runSystemProgram('xargs', ['-0', '-r', systemProgram('touch'), '-h', '-c', '-d', `@${past}`, '--'], {
    cwd: worktree.path,
    input: stdout,
  });
  await runGit(['update-index', '-q', '--refresh'], { ...location, allowExitCodes: [1] });
}

// Per-commit answers kept by a long-lived process: the latest few runs' bases are all that is asked again.
const REMEMBERED = 16;

/** Sets `key`, forgetting the oldest entry when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= REMEMBERED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** True when no `.gitignore`, `.gitmodules` or gitlink differs between two commits (trees only: no walk). */
async function sameIgnoresAndSubmodules(location: GitOptions, from: string, to: string): Promise<boolean> {
  const { stdout } = await runGit(['diff-tree', '-r', '-z', '--raw', '--no-renames', from, to], location);
  // `:<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0`
  const fields = stdout.split('\0');
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const [oldMode, newMode] = fields[index]!.slice(1).split(' ');
    const path = fields[index + 1]!;
    if (oldMode === '160000' || newMode === '160000' || path === '.gitmodules') return false;
    if (path === '.gitignore' || path.endsWith('/.gitignore')) return false;
  }
  return true;
}

const ANY_POOL = '*';

/** The pool directory (made if missing) as a real path, which is how worktree paths name it. */
async function realPool(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  return realpath(directory);
}

/** Replaces a file whole (write aside, then rename), so no reader sees half of it. */
async function replaceFile(path: string, content: string): Promise<void> {
  const draft = `${path}.fanout-${process.pid}`;
  await writeFile(draft, content);
  await rename(draft, path);
}

/** What a tidy's mark is checked against: the worktree's HEAD and its index file's identity. */
async function slotState(worktree: Worktree): Promise<{ head: string; index: string }> {
  const head = await readFile(join(worktree.gitDir, 'HEAD'), 'utf8').catch(() => '');
  const index = await stat(join(worktree.gitDir, 'index'), { bigint: true }).then(
    (info) => `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`,
    () => '-',
  );
  return { head, index };
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
