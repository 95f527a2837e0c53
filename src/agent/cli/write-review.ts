import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { AgentRequest } from '../../ports/agent-backend.js';
import { writeRefusal } from '../tools/write-guard.js';

/**
 * Fanout's word on a write an agent CLI is about to make (its hook asked): why it is refused, or
 * null. `path` is the CLI's, absolute or relative to the worktree; it is judged where it would
 * land (a symbolic link followed), against the subtask's write scope and the protected paths, with
 * the message Fanout's own file tools give. A path outside the worktree, or in its `.git`, is
 * refused too. The commit checks every file again: this is the early word, not the guarantee.
 */
export async function reviewWrite(
  path: string,
  request: Pick<AgentRequest, 'worktree' | 'canWrite' | 'protectedPaths' | 'subtask'>,
): Promise<string | null> {
  const root = request.worktree.path;
  const allowed = request.subtask.writeScope.join(', ');
  const requested = relative(root, resolve(root, path));
  const landing = relative(await realpath(root).catch(() => root), await realLocation(resolve(root, path)));
  if (landing === '' || landing === '..' || landing.startsWith('../') || isAbsolute(landing)) {
    return `write refused: "${path}" is outside the repository's checkout (${root}). Write only inside it, within your write scope (allowed: ${allowed}).`;
  }
  if (landing === '.git' || landing.startsWith('.git/')) {
    return `write refused: "${path}" is inside .git, which is Fanout's to change, not an agent's. Change only files in your write scope (allowed: ${allowed}).`;
  }
  return writeRefusal(
    { relative: landing, requested },
    { writeScope: request.subtask.writeScope, canWrite: request.canWrite, protectedPaths: request.protectedPaths },
  );
}

/** Where a path would land: its deepest existing ancestor with links resolved, then the rest as written. */
async function realLocation(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(basename(current));
      current = parent;
    }
  }
}
