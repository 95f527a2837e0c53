/** A git worktree Fanout created for one subtask. */
export interface Worktree {
  repoDir: string;
  path: string;
  /** The worktree's private git dir (`<repo>/.git/worktrees/<name>`); Fanout never trusts the `.git` file inside `path`. */
  gitDir: string;
  branch: string;
  baseCommit: string;
}

export type CommitOutcome =
  | { kind: 'committed'; commit: string; files: string[] }
  | { kind: 'no-changes' }
  | { kind: 'out-of-scope'; paths: string[]; files: string[] };

export interface CommitRequest {
  message: string;
  author: { name: string; email: string };
  /** Only changes to paths this accepts may be committed. */
  isAllowed: (path: string) => boolean;
}

/** Git repositories and worktrees. Every command it runs ignores hooks, filters and planted config. */
export interface Workspace {
  /** Tracked files at a commit (default HEAD), repository-relative, `/`-separated. */
  listFiles(repoDir: string, commit?: string): Promise<string[]>;
  /** Resolves a ref to a full commit id. */
  resolveCommit(repoDir: string, ref: string): Promise<string>;
  /** Reads a file at a commit; null when it does not exist there. */
  readFileAt(repoDir: string, commit: string, path: string): Promise<string | null>;
  createWorktree(request: { repoDir: string; path: string; branch: string; baseCommit: string }): Promise<Worktree>;
  /** Removes the worktree directory and its registration; the branch stays unless asked. */
  removeWorktree(worktree: Worktree, options?: { deleteBranch?: boolean }): Promise<void>;
  /** Removes worktrees under `root` that are not in `keep` (left behind by a crash); returns their paths. */
  pruneStale(repoDir: string, root: string, keep?: ReadonlySet<string>): Promise<string[]>;
  /** Paths changed in the worktree since its base commit (tracked or not, ignored files excluded). */
  changedFiles(worktree: Worktree): Promise<string[]>;
  /** Pushes refspecs to a remote URL; `authHeader` goes to git through its environment, never its arguments. */
  push(repoDir: string, request: { remoteUrl: string; refspecs: string[]; force?: boolean; authHeader?: string }): Promise<void>;
  /** Commits the worktree's changes on its branch, on top of the base commit, if all are allowed. */
  commitChanges(worktree: Worktree, request: CommitRequest): Promise<CommitOutcome>;
}
