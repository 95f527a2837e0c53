import type { Worktree } from '../../ports/workspace.js';

/** One entry of a commit's tree: a file (`100644`, `100755`), a link (`120000`) or a submodule (`160000`). */
export interface TreeEntry {
  path: string;
  mode: string;
  /** The blob (or, for a submodule, commit) id: a hash of the content. */
  object: string;
}

/**
 * The git operations preparing a worktree needs, beyond the Workspace port. Implemented by
 * `src/adapters/workspace/preparation-git.ts` with Fanout's hardened git; every call runs outside
 * the sandbox, so none may run repository code (hooks, filters, drivers stay disabled).
 */
export interface PreparationGit {
  /** The commit the worktree has checked out, from Fanout's records of its git dir. */
  headCommit(worktree: Worktree): Promise<string>;
  /** Every entry of the commit's tree, with object ids. */
  treeEntries(repoDir: string, commit: string): Promise<TreeEntry[]>;
  /** Ignored paths in the worktree; a directory holding only ignored files is one entry ending in `/`. */
  ignoredPaths(worktree: Worktree): Promise<string[]>;
  /** What a commit would pick up: changed tracked files and untracked files that are not ignored. */
  uncommittedPaths(worktree: Worktree): Promise<string[]>;
  /** Deletes every ignored file and directory in the worktree, but the `keep` paths (worktree-relative). */
  removeIgnored(worktree: Worktree, keep?: readonly string[]): Promise<void>;
  /** Ignored files in the user's checkout matching the globs (git glob pathspecs), repository-relative. */
  ignoredFiles(repoDir: string, globs: readonly string[]): Promise<string[]>;
  /** Submodules named in `.gitmodules` at the commit: name and path. */
  submodules(repoDir: string, commit: string): Promise<Array<{ name: string; path: string }>>;
  /**
   * Checks a submodule out at `commit` in the worktree, from the module store of the user's
   * checkout (`<common dir>/modules/<name>`), with no network. False when the store lacks it.
   */
  checkoutSubmodule(worktree: Worktree, submodule: { name: string; path: string; commit: string }): Promise<boolean>;
}
