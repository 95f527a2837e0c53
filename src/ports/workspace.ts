import type { ProtectedPaths } from '../domain/protected-paths.js';

/** A git worktree Fanout created for one subtask. */
export interface Worktree {
  repoDir: string;
  /** Absolute and free of symbolic links. */
  path: string;
  /** The worktree's private git dir (`<repo>/.git/worktrees/<name>`); Fanout never trusts the `.git` file inside `path`. */
  gitDir: string;
  /** The repository's shared git dir (objects, refs, config), which every worktree reads. */
  commonDir: string;
  branch: string;
  baseCommit: string;
  /** Set by the pool when it knows the worktree holds no ignored file (fresh, or tidied without them). */
  withoutIgnoredFiles?: boolean;
}

export type MergeOutcome =
  { kind: 'merged'; commit: string } | { kind: 'up-to-date'; commit: string } | { kind: 'conflict'; files: string[] };

export type CommitOutcome =
  | { kind: 'committed'; commit: string; files: string[] }
  | { kind: 'no-changes' }
  | { kind: 'out-of-scope'; paths: string[]; files: string[] }
  /** Symbolic links pointing outside the repository (or into .git): merged, they would lead the user's tools out. */
  | { kind: 'escaping-links'; paths: string[]; files: string[] }
  /** Nested repositories (gitlinks): they bring config and drivers of their own. */
  | { kind: 'nested-repositories'; paths: string[]; files: string[] }
  /** Files too large to commit (checked before git reads them). */
  | { kind: 'too-large'; paths: string[]; limitBytes: number };

export interface CommitRequest {
  message: string;
  author: { name: string; email: string };
  /** Only changes to paths this accepts may be committed. */
  isAllowed: (path: string) => boolean;
  /** The repository's protected paths, refused whatever `isAllowed` says (the defaults even when absent). */
  protectedPaths?: ProtectedPaths;
  /**
   * Every path that can have changed since the worktree was handed out, when only Fanout's own
   * tools wrote in it (no command ran): the commit looks at these instead of walking the tree.
   */
  knownPaths?: readonly string[];
}

/** A snapshot of the shared git directory's config, hooks and attributes, taken when a run starts. */
export interface SharedStateGuard {
  /** Puts back whatever changed since the snapshot; returns the changed paths (relative to the git dir). */
  restore(): Promise<string[]>;
}

/** Git repositories and worktrees. Every command it runs ignores hooks, filters and planted config. */
export interface Workspace {
  /** Tracked files at a commit (default HEAD), repository-relative, `/`-separated. */
  listFiles(repoDir: string, commit?: string): Promise<string[]>;
  /** The branch checked out in `repoDir`, or null when HEAD is detached. */
  currentBranch(repoDir: string): Promise<string | null>;
  /** Resolves a ref to a full commit id. */
  resolveCommit(repoDir: string, ref: string): Promise<string>;
  /** Reads a file at a commit; null when it does not exist there. */
  readFileAt(repoDir: string, commit: string, path: string): Promise<string | null>;
  createWorktree(request: { repoDir: string; path: string; branch: string; baseCommit: string }): Promise<Worktree>;
  /**
   * A worktree at `commit`, on `branch` (or detached when null), from the repository's pool under
   * `poolRoot`: a free warm worktree is reset to the commit and cleaned (only the difference is
   * touched), else a new one is made. Exactly like a fresh worktree for its user; `releaseWorktree`
   * hands it back. With `keepIgnored`, a warm worktree's ignored files are left for the caller,
   * whose preparation removes them or keeps what it verifies (a prepared environment).
   */
  acquireWorktree(request: {
    repoDir: string;
    poolRoot: string;
    branch: string | null;
    commit: string;
    keepIgnored?: boolean;
  }): Promise<Worktree>;
  /**
   * Hands a worktree from `acquireWorktree` back to its pool (nothing is deleted). It is tidied in
   * the background (back to the commit it started from, cleaned), so the next user at that commit
   * starts at once; the slot is free again once tidy. `committedAll`: its user's every change is
   * in the branch's last commit and nothing else wrote in it, so there is nothing to clean.
   */
  releaseWorktree(worktree: Worktree, options?: { committedAll?: boolean }): Promise<void>;
  /**
   * Readies up to `count` pool worktrees at `commit` in the background (made, or reset and
   * cleaned), so that claims at that commit only switch branch: a run asks while its planner
   * thinks. Claims arriving meanwhile wait for these slots rather than make new ones.
   */
  warmPool(request: { repoDir: string; poolRoot: string; commit: string; count: number; keepIgnored?: boolean }): void;
  /** Resolves once every worktree released so far is tidy and back in its pool (a run's last step). */
  settled(): Promise<void>;
  /** A worktree with a detached HEAD at `commit`, for Fanout's own merges and validation. */
  createDetachedWorktree(request: { repoDir: string; path: string; commit: string }): Promise<Worktree>;
  /** Moves a worktree to `commit` (detached), discarding its changes and untracked files. */
  checkoutDetached(worktree: Worktree, commit: string): Promise<void>;
  /** Merges `commit` into the worktree's HEAD; a conflict is aborted, leaving nothing mid-merge. */
  mergeInto(worktree: Worktree, commit: string, message: string): Promise<MergeOutcome>;
  /** True when `ancestor` is an ancestor of (or equal to) `descendant`. */
  isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean>;
  /** Removes the worktree directory and its registration; the branch stays unless asked. */
  removeWorktree(worktree: Worktree, options?: { deleteBranch?: boolean }): Promise<void>;
  /**
   * Removes this repository's worktrees under `root` that `keep` does not claim (left behind by a
   * crash); `keep` gets each path relative to `root`. Returns the absolute paths removed.
   */
  pruneStale(repoDir: string, root: string, keep?: (relativePath: string) => boolean): Promise<string[]>;
  /** Paths that differ between `base`'s merge base with `head` and `head` (what a pull request changes). */
  changedBetween(repoDir: string, base: string, head: string): Promise<string[]>;
  /** Paths changed in the worktree since its base commit (tracked or not, ignored files excluded). */
  changedFiles(worktree: Worktree): Promise<string[]>;
  /**
   * The worktree's changed paths (as `git status` lists them, ignored files excluded), each with a
   * signature (type, mode, size, mtime) that moves when the file does; nothing is staged.
   */
  worktreeChanges(worktree: Worktree): Promise<Map<string, string>>;
  /** Pushes refspecs to a remote URL; `authHeader` goes to git through its environment, never its arguments. */
  push(
    repoDir: string,
    request: { remoteUrl: string; refspecs: string[]; force?: boolean; authHeader?: string },
  ): Promise<void>;
  /**
   * Snapshots what in the repository's shared git directory could make git run code later (config,
   * hooks, attributes), so that what an agent's commands change there can be put back.
   */
  guardSharedState(repoDir: string): Promise<SharedStateGuard>;
  /** Commits the worktree's changes on its branch, on top of the base commit, if all are allowed. */
  commitChanges(worktree: Worktree, request: CommitRequest): Promise<CommitOutcome>;
}
