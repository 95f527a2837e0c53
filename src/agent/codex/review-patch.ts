import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { AgentRequest } from '../../ports/agent-backend.js';
import type { ToolUse } from '../../ports/model-grants.js';
import { patchPaths } from './patch-paths.js';

/**
 * Fanout's answer to Codex's PreToolUse hook: an `apply_patch` that writes any path outside the
 * subtask's write scope, a protected path, or outside the worktree is refused, with a reason the
 * model reads as the tool's output. Shell commands run (what they change is checked when the
 * session ends, and at commit). A path is judged where it lands, so an in-scope symbolic link
 * cannot carry a patch out of scope.
 */
export async function reviewCodexToolUse(use: ToolUse, request: AgentRequest): Promise<string | null> {
  if (use.tool !== 'apply_patch') return null;
  const patch = typeof use.input.command === 'string' ? use.input.command : '';
  const refusals: string[] = [];
  const root = await realpath(request.worktree.path).catch(() => request.worktree.path);
  for (const written of patchPaths(patch)) {
    const lands = await landing(root, isAbsolute(written) ? written : join(root, written));
    if (lands === null) {
      refusals.push(`"${written}" is outside the repository`);
      continue;
    }
    if (request.protectedPaths.covers(lands)) {
      refusals.push(
        `"${lands}" is protected: agents never change CI, code ownership or Fanout's own configuration (${request.protectedPaths.entries.join(', ')}), whatever the write scope`,
      );
      continue;
    }
    if (!request.canWrite(lands)) refusals.push(`"${lands}" is outside this subtask's write scope`);
  }
  if (refusals.length === 0) return null;
  return `Fanout refused this patch: ${refusals.join('; ')}. Your write scope is ${request.subtask.writeScope.join(', ')}. Change only files inside it, and nothing of this patch was applied; if another file must change, leave it and say so in your summary.`;
}

/**
 * Where a path lands once the symbolic links of its existing part are followed, relative to the
 * worktree; null outside it (or for the worktree's `.git`).
 */
async function landing(root: string, path: string): Promise<string | null> {
  let existing = resolve(path);
  let rest = '';
  for (;;) {
    const real = await realpath(existing).catch(() => null);
    if (real !== null) {
      const inside = relative(root, join(real, rest));
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null;
      return inside.split('/')[0] === '.git' ? null : inside;
    }
    const parent = dirname(existing);
    if (parent === existing) return null;
    rest = join(basename(existing), rest);
    existing = parent;
  }
}
