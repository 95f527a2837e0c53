import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Worktree slots still held (their lock files) under a worktree root's pool: none once a run is over. */
export async function heldWorktrees(worktreeRoot: string): Promise<string[]> {
  const pool = join(worktreeRoot, 'pool');
  const held: string[] = [];
  for (const repository of await readdir(pool).catch(() => [] as string[])) {
    for (const name of await readdir(join(pool, repository)).catch(() => [] as string[]))
      if (name.endsWith('.lock')) held.push(join(repository, name));
  }
  return held;
}
