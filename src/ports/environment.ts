/** What a run tells the environment preparation about a worktree it prepares. */
export interface PreparationContext {
  /** The run's base commit: setup gets credentials and fills the cache only for a worktree at it. */
  trustedCommit: string;
  /** Hash every cached file first (the merge worktree, once no agent is alive). */
  thorough?: boolean;
}
