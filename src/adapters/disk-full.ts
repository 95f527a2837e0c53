import { statfs } from 'node:fs/promises';
import { DiskFullError } from '../domain/errors.js';

/** Below this much room a filesystem counts as full: git's failures there are for lack of space. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** The errno of a write that found no room (ENOSPC, or EDQUOT: over a quota), if that is what failed. */
function noSpaceErrno(error: unknown): 'ENOSPC' | 'EDQUOT' | undefined {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? code : undefined;
}

/** The error as Fanout raises it: a DiskFullError when a write found no room, else unchanged. */
export function translateNoSpace(error: unknown, writing: string): unknown {
  if (error instanceof DiskFullError) return error;
  const errno = noSpaceErrno(error);
  if (!errno) return error;
  // Node names the file for open, mkdir, rename and the like; not for a write to an open handle.
  const path = (error as NodeJS.ErrnoException).path;
  return new DiskFullError(`writing ${path ?? writing}`, errno, { cause: error });
}

/**
 * The same object, every method of which reports a write that found no room as a DiskFullError
 * (the adapter's edge: callers branch on the code, never on errno or text). `writing` names what
 * it writes when the error does not (a write to an open file carries no path).
 */
export function reportingFullDisk<T extends object>(adapter: T, writing: string): T {
  return new Proxy(adapter, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...inner: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          throw translateNoSpace(error, writing);
        });
      };
    },
  });
}

/**
 * The first of these directories whose filesystem has (about) no room or no inode left, for
 * programs that say so only in words (git prints "No space left on device" and exits 128, as it
 * does for many other failures). Root may write into the blocks reserved for it.
 */
export async function fullFilesystem(directories: readonly string[]): Promise<string | undefined> {
  for (const directory of new Set(directories)) {
    const stats = await statfs(directory).catch(() => null);
    if (!stats) continue;
    const blocks = process.getuid?.() === 0 ? stats.bfree : stats.bavail;
    if (blocks * stats.bsize < NEARLY_FULL_BYTES || (stats.files > 0 && stats.ffree === 0)) return directory;
  }
  return undefined;
}
