import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { ToolError } from './tool-context.js';

export interface ResolvedPath {
  absolute: string;
  /** Repository-relative, `/`-separated; `.` for the root. */
  relative: string;
}

/**
 * Resolves a model-supplied path inside the worktree. Refuses absolute paths, `..`, `.git`, and
 * any path that leaves the worktree through a symbolic link (checked on the real filesystem).
 */
export async function resolveInside(root: string, rawPath: string): Promise<ResolvedPath> {
  const path = rawPath.trim().replace(/\\/g, '/');
  if (path.includes('\0')) throw new ToolError('path contains a NUL byte');
  if (path.startsWith('/') || /^[A-Za-z]:\//.test(path) || path.startsWith('~')) {
    throw new ToolError(`"${rawPath}" is absolute; use a path relative to the repository root`);
  }
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw new ToolError(`"${rawPath}" leaves the repository ('..' is not allowed)`);
  if (segments.includes('.git')) throw new ToolError(`"${rawPath}" is inside .git/, which is off limits`);
  const relativePath = segments.length === 0 ? '.' : posix.join(...segments);
  const absolute = segments.length === 0 ? root : join(root, ...segments);
  await assertNoEscape(root, absolute, rawPath);
  return { absolute, relative: relativePath };
}

async function assertNoEscape(root: string, absolute: string, rawPath: string): Promise<void> {
  // The deepest part of the path that exists decides where a write or read really lands.
  let existing = absolute;
  for (;;) {
    const info = await lstat(existing).catch(() => null);
    if (info) break;
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const real = await realpath(existing).catch(() => existing);
  const inside = relative(root, real);
  if (!isAbsolute(inside) && inside !== '..' && !inside.startsWith(`..${sep}`)) return;
  throw new ToolError(`"${rawPath}" resolves outside the repository through a symbolic link`);
}
