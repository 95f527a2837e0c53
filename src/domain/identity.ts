/** The author and committer of every commit Fanout makes (agent work, branch updates, merges). */
export const FANOUT_AUTHOR = { name: 'Fanout', email: 'fanout@users.noreply.github.com' } as const;
