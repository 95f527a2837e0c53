import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Worktree } from '../../ports/workspace.js';
import { cachedPromise } from './cached-promises.js';
import { runGit, type GitOptions } from './git-cli.js';
import { removeTree } from './remove-tree.js';
import { statusPaths, worktreeGit } from './worktree-commit.js';
import {
  claimSlot,
  holdsSlot,
  markTidy,
  poolDirectory,
  recordOf,
  releaseSlot,
  takeTidy,
  type PoolSlot,
  type TidySlot,
} from './worktree-pool.js';

/** Moves between commits remembered per process: the latest runs' bases are all that is asked again. */
const REMEMBERED = 16;

/** What the pool needs of the workspace: worktree records made and removed one at a time. */
export interface WorktreeRecords {
  /** The repository's shared git directory. */
  commonDir(repoDir: string): Promise<string>;
  /** A new worktree at `path`, checked out at `commit` (`mode`: `-B <branch>` or `--detach`). */
  addWorktree(repoDir: string, path: string, mode: string[], commit: string, branch: string): Promise<Worktree>;
  /** Deletes the worktree and its record. */
  removeWorktree(worktree: Worktree): Promise<void>;
}

/**
 * Warm worktrees per repository (`<poolRoot>/<repository>/<slot>`), shared by processes through
 * slot lock files: claimed, reset to a commit touching only the difference, and tidied in the
 * background once released, so the next user at that commit only gets its branch.
 */
export class PooledWorktrees {
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
  private readonly moves = new Map<string, Promise<boolean>>();
  private nextWarming = 0;

  /** `trustTidySlots`: see GitWorkspace. */
  constructor(
    private readonly records: WorktreeRecords,
    private readonly options: { trustTidySlots?: boolean },
  ) {}

  async acquireWorktree(request: {
    repoDir: string;
    poolRoot: string;
    branch: string | null;
    commit: string;
    keepIgnored?: boolean;
  }): Promise<Worktree> {
    const commonDir = await this.records.commonDir(request.repoDir);
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
        await this.records.removeWorktree(worktree).catch(() => undefined);
      } else if (existsSync(slot.path)) {
        await removeTree(slot.path);
      }
      const mode = request.branch ? ['-B', request.branch] : ['--detach'];
      const worktree = await this.records.addWorktree(
        request.repoDir,
        slot.path,
        mode,
        request.commit,
        request.branch ?? '',
      );
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
        const commonDir = await this.records.commonDir(request.repoDir);
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
      worktree = await this.records.addWorktree(repoDir, slot.path, ['--detach'], commit, '');
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

  /** Whether moving between two commits leaves a clean worktree clean (see sameIgnoresAndSubmodules), asked once per pair. */
  private sameIgnoresAndSubmodules(location: GitOptions, from: string, to: string): Promise<boolean> {
    const key = `${location.commonDir ?? location.cwd}\0${from}\0${to}`;
    return cachedPromise(this.moves, key, () => sameIgnoresAndSubmodules(location, from, to), REMEMBERED);
  }
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
