import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ToolError } from './tool-context.js';

/** Links followed while resolving one path at most (Linux's own limit is 40 too). */
const MAX_SYMBOLIC_LINKS = 40;

export interface ResolvedPath {
  /** Where the path really is: inside the worktree, with no symbolic link left in it. */
  absolute: string;
  /** `absolute` repository-relative, `/`-separated; `.` for the root. This is what a write changes. */
  relative: string;
  /** The path as the model wrote it, normalized; differs from `relative` when it went through a link. */
  requested: string;
  /** lstat of the final component; null when it does not exist (yet). */
  stats: Stats | null;
}

/**
 * Resolves a model-supplied path inside the worktree, one component at a time with lstat, never
 * letting the kernel follow a link. Refuses absolute paths, `..`, `.git`, and any symbolic link
 * whose target (resolved recursively) is outside the worktree or inside `.git`, dangling or not.
 * Links that stay inside are followed.
 */
export async function resolveInside(root: string, rawPath: string): Promise<ResolvedPath> {
  const path = rawPath.trim().replace(/\\/g, '/');
  if (path.includes('\0')) throw new ToolError('path contains a NUL byte');
  if (path.startsWith('/') || /^[A-Za-z]:\//.test(path) || path.startsWith('~')) {
    throw new ToolError(`"${rawPath}" is absolute; use a path relative to the repository root`);
  }
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw new ToolError(`"${rawPath}" leaves the repository ('..' is not allowed)`);
  if (segments.some(isGitSegment)) throw new ToolError(`"${rawPath}" is inside .git/, which is off limits`);
  const resolved = await walk(root, segments, rawPath);
  const absolute = resolved.length === 0 ? root : join(root, ...resolved);
  const stats = await lstat(absolute).catch(nullWhenMissing);
  // A link swapped in after the walk: refuse rather than guess where it points now.
  if (stats?.isSymbolicLink())
    throw new ToolError(`"${rawPath}" changed into a symbolic link while it was checked; refused`);
  return { absolute, relative: toRelative(resolved), requested: toRelative(segments), stats };
}

/** The real repository-relative segments of `segments`, following only links that stay inside. */
async function walk(root: string, segments: readonly string[], rawPath: string): Promise<string[]> {
  const resolved: string[] = [];
  const pending = [...segments];
  let links = 0;
  while (pending.length > 0) {
    const segment = pending.shift()!;
    if (segment === '' || segment === '.') continue;
    // Only a link target can bring `..`; `resolved` holds no links, so popping is exact.
    if (segment === '..') {
      if (resolved.length === 0) throw escapeError(rawPath);
      resolved.pop();
      continue;
    }
    if (isGitSegment(segment))
      throw new ToolError(`"${rawPath}" leads into .git/ through a symbolic link, which is off limits`);
    const here = join(root, ...resolved, segment);
    const info = await lstat(here).catch(nullWhenMissing);
    if (!info) return [...resolved, segment, ...missingTail(pending, rawPath, toRelative([...resolved, segment]))];
    if (info.isSymbolicLink()) {
      links += 1;
      if (links > MAX_SYMBOLIC_LINKS)
        throw new ToolError(`"${rawPath}" goes through more than ${MAX_SYMBOLIC_LINKS} symbolic links`);
      const target = linkTargetSegments(root, await readlink(here), rawPath);
      if (target.absolute) resolved.length = 0;
      pending.unshift(...target.segments);
      continue;
    }
    resolved.push(segment);
    if (!info.isDirectory() && pending.some((next) => next !== '' && next !== '.')) {
      throw new ToolError(`"${rawPath}" goes through "${toRelative(resolved)}", which is not a directory`);
    }
  }
  return resolved;
}

/** Below a missing component nothing exists (and so no link): the rest is taken as written. */
function missingTail(pending: readonly string[], rawPath: string, missing: string): string[] {
  const rest = pending.filter((segment) => segment !== '' && segment !== '.');
  if (rest.includes('..')) throw new ToolError(`"${rawPath}" goes through "${missing}", which does not exist`);
  if (rest.some(isGitSegment))
    throw new ToolError(`"${rawPath}" leads into .git/ through a symbolic link, which is off limits`);
  return rest;
}

/** A link's target as segments: relative ones continue from the link's directory, absolute ones from the root. */
function linkTargetSegments(root: string, target: string, rawPath: string): { absolute: boolean; segments: string[] } {
  if (!isAbsolute(target)) return { absolute: false, segments: target.split('/') };
  const inside = relative(root, target);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw escapeError(rawPath);
  return { absolute: true, segments: inside.split(sep) };
}

function escapeError(rawPath: string): ToolError {
  return new ToolError(`"${rawPath}" resolves outside the repository through a symbolic link`);
}

// Case-insensitive: on such filesystems `.GIT` is the same directory.
function isGitSegment(segment: string): boolean {
  return segment.toLowerCase() === '.git';
}

function toRelative(segments: readonly string[]): string {
  return segments.length === 0 ? '.' : segments.join('/');
}

function nullWhenMissing(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT') return null;
  throw error;
}
