import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  constants,
  copyFile,
  cp,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';

/** A file, directory or symbolic link of a prepared tree, as found on disk. */
export type TreeItem =
  | { kind: 'dir'; path: string; mode: number }
  | {
      kind: 'file';
      path: string;
      mode: number;
      size: number;
      ino: string;
      mtimeNs: string;
      ctimeNs: string;
      sha256: string;
    }
  /** `inWorktree`: the link pointed into the worktree it was made in; it is re-pointed into each new one. */
  | { kind: 'link'; path: string; target: string; inWorktree: boolean };

const PARALLEL = 32;
// Small files are read whole; larger ones are streamed so a 1 GB binary does not sit in memory.
const READ_WHOLE_BYTES = 8 * 1024 * 1024;

/**
 * Every item under `root/roots`, parents before children, files hashed. `worktree` is where the
 * tree was made: absolute links into it are recorded relative to it. Files containing one of the
 * `forbidden` strings (credentials) are listed in `leaks`.
 */
export async function readTree(
  root: string,
  roots: readonly string[],
  worktree: string,
  forbidden: readonly string[] = [],
): Promise<{ items: TreeItem[]; leaks: string[] }> {
  const items: TreeItem[] = [];
  const files: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(join(root, path));
    if (info.isDirectory()) {
      items.push({ kind: 'dir', path, mode: info.mode & 0o7777 });
      const names = (await readdir(join(root, path))).sort();
      for (const name of names) await visit(`${path}/${name}`);
    } else if (info.isSymbolicLink()) {
      const target = await readlink(join(root, path));
      const inWorktree = isAbsolute(target) && (target === worktree || target.startsWith(`${worktree}/`));
      items.push({ kind: 'link', path, target: inWorktree ? relative(worktree, target) : target, inWorktree });
    } else if (info.isFile()) {
      files.push(path);
      items.push({ kind: 'file', path, mode: 0, size: 0, ino: '', mtimeNs: '', ctimeNs: '', sha256: '' });
    }
    // Sockets, FIFOs and devices are not part of an install; they are left out.
  };
  for (const path of roots) await visit(path);
  const byPath = new Map(items.map((item, index) => [item.path, index]));
  const leaks: string[] = [];
  await forEachLimited(files, async (path) => {
    const info = await lstat(join(root, path), { bigint: true });
    const { sha256, found } = await scanFile(join(root, path), Number(info.size), forbidden);
    if (found) leaks.push(path);
    items[byPath.get(path)!] = {
      kind: 'file',
      path,
      mode: Number(info.mode) & 0o7777,
      size: Number(info.size),
      ino: String(info.ino),
      mtimeNs: String(info.mtimeNs),
      ctimeNs: String(info.ctimeNs),
      sha256,
    };
  });
  return { items, leaks: leaks.sort() };
}

/** The sha256 of a file's content. */
export async function hashFile(path: string, size: number): Promise<string> {
  return (await scanFile(path, size, [])).sha256;
}

/** The sha256 of a file's content, and whether it contains one of the `forbidden` strings. */
async function scanFile(
  path: string,
  size: number,
  forbidden: readonly string[],
): Promise<{ sha256: string; found: boolean }> {
  const hash = createHash('sha256');
  if (size <= READ_WHOLE_BYTES) {
    const data = await readFile(path);
    return { sha256: hash.update(data).digest('hex'), found: forbidden.some((text) => data.includes(text)) };
  }
  // Streamed: each chunk is searched together with the end of the one before, so a string split
  // across two chunks is found too.
  const longest = Math.max(0, ...forbidden.map((text) => Buffer.byteLength(text)));
  let carry = Buffer.alloc(0);
  let found = false;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    if (forbidden.length === 0 || found) continue;
    const window = Buffer.concat([carry, chunk as Buffer]);
    found = forbidden.some((text) => window.includes(text));
    carry = window.subarray(Math.max(0, window.length - longest + 1));
  }
  return { sha256: hash.digest('hex'), found };
}

/**
 * Recreates the items under `target`: directories made, files hard-linked to `source` (copied when
 * the two sit on different file systems), links made again. Returns whether files were linked.
 */
export async function linkTree(
  source: string,
  target: string,
  items: readonly TreeItem[],
): Promise<'linked' | 'copied'> {
  let mode: 'linked' | 'copied' = 'linked';
  for (const item of items) if (item.kind === 'dir') await mkdir(join(target, item.path), { mode: item.mode | 0o700 });
  await forEachLimited(items, async (item) => {
    const to = join(target, item.path);
    if (item.kind === 'link') {
      await symlink(item.inWorktree ? join(target, item.target) : item.target, to);
    } else if (item.kind === 'file') {
      try {
        await link(join(source, item.path), to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        // A copy (copy-on-write where the file system can) shares nothing with the cache.
        mode = 'copied';
        await copyFile(join(source, item.path), to, constants.COPYFILE_FICLONE);
      }
    }
  });
  return mode;
}

/**
 * Checks (and with `create`, makes) the parent directories of `path` under `root`, refusing to
 * pass through a symbolic link or a file: a tracked link must not lead a write out of the worktree.
 */
export async function parentsAreDirectories(
  root: string,
  path: string,
  options: { create?: boolean } = {},
): Promise<boolean> {
  let current = root;
  for (const part of path.split('/').slice(0, -1)) {
    current = join(current, part);
    const info = await lstat(current).catch(() => null);
    if (!info && options.create) await mkdir(current);
    else if (!info?.isDirectory()) return false;
  }
  return true;
}

/** Deletes paths under `root` whose parents are real directories; missing ones are fine. */
export async function removePaths(root: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (await parentsAreDirectories(root, path)) await rm(join(root, path), { recursive: true, force: true });
  }
}

/** Moves `paths` from one tree to another: renames (near-instant), or a copy across file systems. */
export async function moveInto(from: string, to: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await mkdir(dirname(join(to, path)), { recursive: true });
    try {
      await rename(join(from, path), join(to, path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await cp(join(from, path), join(to, path), {
        recursive: true,
        verbatimSymlinks: true,
        errorOnExist: true,
        force: false,
      });
      await rm(join(from, path), { recursive: true, force: true });
    }
  }
}

/** Runs `work` over items, a few at a time (the file system answers faster in parallel). */
export async function forEachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
