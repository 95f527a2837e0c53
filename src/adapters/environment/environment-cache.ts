import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  forEachLimited,
  hashFile,
  linkTree,
  moveInto,
  parentsAreDirectories,
  readTree,
  removePaths,
  type TreeItem,
} from './file-tree.js';

/*
 * A prepared environment is kept once per cache key and given to every later worktree by hard
 * links, so the Nth worktree costs a directory walk instead of an install (a copy only where the
 * cache and the worktree sit on different file systems).
 *
 * Hard links share inodes: a command that rewrites a linked file in place (instead of replacing
 * it) changes the cached copy, and with it every worktree linked later. So each entry records,
 * when it is built, every file's inode, size, mtime, mode and sha256, and every reuse checks them.
 * A process can put a file's mtime back but never its ctime, and ctime also moves when a link is
 * added or removed (a worktree made or cleaned); a file whose ctime moved since it was last checked
 * is hashed again. A file that fails the check has the entry rebuilt. The ctimes recorded when the
 * entry is built are sound (no agent holds a link yet); those recorded after a reuse can include a
 * write made in the instant between linking and recording by an agent alive at that moment, which
 * lasts until that file's next link change. That is the exposure hard links between live worktrees
 * have anyway (an agent can rewrite a file another live worktree links); a preparation whose
 * verdict counts once no agent is alive (the merge worktree) passes `thorough` and hashes all.
 */

/** What a cache entry holds: the ignored paths setup made (roots) and every item under them. */
export interface Manifest {
  version: 1;
  /** Changes with every build, so a waiter can tell a rebuilt entry from the one it saw. */
  id: string;
  key: string;
  createdAt: string;
  roots: string[];
  items: TreeItem[];
}

export interface CacheEntry {
  dir: string;
  manifest: Manifest;
}

export type Verification = { ok: true; hashed: number } | { ok: false; problem: string };

/** Entries kept per cache directory; the least recently used go first. */
export const MAX_ENTRIES = 6;

/** The cache entry for a key, or null when none was completed. */
export async function readEntry(cacheDir: string, key: string): Promise<CacheEntry | null> {
  const dir = join(cacheDir, key);
  const text = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const manifest = JSON.parse(text) as Manifest;
    return manifest.version === 1 && manifest.key === key ? { dir, manifest } : null;
  } catch {
    return null;
  }
}

/**
 * Checks every cached file against the manifest (see the note at the top). `thorough` hashes every
 * file whatever its ctime: for a worktree whose verdict counts once no agent is alive (the merge
 * worktree), where an inode linked into a live agent's worktree at the last check is no excuse.
 */
export async function verifyEntry(entry: CacheEntry, options: { thorough?: boolean } = {}): Promise<Verification> {
  const checked = await readCheckedCtimes(entry);
  let hashed = 0;
  let problem: string | null = null;
  const files = entry.manifest.items.flatMap((item, index) => (item.kind === 'file' ? [{ item, index }] : []));
  await forEachLimited(files, async ({ item, index }) => {
    if (problem) return;
    const path = join(entry.dir, 'tree', item.path);
    const info = await lstat(path, { bigint: true }).catch(() => null);
    if (!info?.isFile()) {
      problem = `${item.path} is missing`;
      return;
    }
    if (
      String(info.ino) !== item.ino ||
      Number(info.size) !== item.size ||
      String(info.mtimeNs) !== item.mtimeNs ||
      (Number(info.mode) & 0o7777) !== item.mode
    ) {
      problem = `${item.path} was changed`;
      return;
    }
    if (!options.thorough && String(info.ctimeNs) === (checked.get(index) ?? item.ctimeNs)) return;
    hashed += 1;
    if ((await hashFile(path, item.size)) !== item.sha256) problem = `${item.path} was rewritten in place`;
  });
  return problem ? { ok: false, problem } : { ok: true, hashed };
}

/**
 * Records each file's ctime as checked, after linking: until something else touches a file, the
 * next reuse need not hash it. Concurrent writers may record an older ctime; that only costs a hash.
 */
export async function recordChecked(entry: CacheEntry): Promise<void> {
  const ctimes: Array<[number, string]> = [];
  await forEachLimited(
    entry.manifest.items.map((item, index) => ({ item, index })),
    async ({ item, index }) => {
      if (item.kind !== 'file') return;
      const info = await lstat(join(entry.dir, 'tree', item.path), { bigint: true }).catch(() => null);
      if (info) ctimes.push([index, String(info.ctimeNs)]);
    },
  );
  await writeAtomically(join(entry.dir, 'checked.json'), JSON.stringify(ctimes));
}

/** Links the entry's tree into the worktree; on failure nothing of it is left there. */
export async function placeEntry(entry: CacheEntry, worktree: string): Promise<'linked' | 'copied'> {
  for (const root of entry.manifest.roots) {
    // Checked before anything is made, so a failure below removes only what this made.
    if (!(await parentsAreDirectories(worktree, root, { create: true })))
      throw new Error(`a link or file is in the way of ${root}`);
    if (await lstat(join(worktree, root)).catch(() => null)) throw new Error(`${root} is already in the worktree`);
  }
  try {
    return await linkTree(join(entry.dir, 'tree'), worktree, entry.manifest.items);
  } catch (error) {
    await removePaths(worktree, entry.manifest.roots);
    throw error;
  }
}

/**
 * Whether a worktree still holds exactly what `placeEntry` linked there from this entry: the same
 * directories, links with the same targets, every file the cached file's own inode, and nothing
 * else. A pool slot's last user may have added, replaced or removed anything; only an untouched
 * placement is kept (its files' contents are the cache's, which `verifyEntry` checks).
 */
export async function placementIntact(entry: CacheEntry, worktree: string): Promise<boolean> {
  for (const root of entry.manifest.roots) if (!(await parentsAreDirectories(worktree, root))) return false;
  const expected = new Map(entry.manifest.items.map((item) => [item.path, item]));
  const files: Array<Extract<TreeItem, { kind: 'file' }>> = [];
  let seen = 0;
  let intact = true;
  const visit = async (path: string, kind: 'dir' | 'file' | 'link' | 'other'): Promise<void> => {
    const item = expected.get(path);
    if (!intact || !item || item.kind !== kind) {
      intact = false;
      return;
    }
    seen += 1;
    if (item.kind === 'file') files.push(item);
    else if (item.kind === 'link') {
      const target = await readlink(join(worktree, path)).catch(() => null);
      if (target !== (item.inWorktree ? join(worktree, item.target) : item.target)) intact = false;
    } else {
      const children = await readdir(join(worktree, path), { withFileTypes: true }).catch(() => null);
      if (!children) intact = false;
      for (const child of children ?? []) {
        await visit(
          `${path}/${child.name}`,
          child.isDirectory() ? 'dir' : child.isFile() ? 'file' : child.isSymbolicLink() ? 'link' : 'other',
        );
      }
    }
  };
  for (const root of entry.manifest.roots) {
    const info = await lstat(join(worktree, root)).catch(() => null);
    if (!info) return false;
    await visit(root, info.isDirectory() ? 'dir' : info.isFile() ? 'file' : info.isSymbolicLink() ? 'link' : 'other');
  }
  if (!intact || seen !== expected.size) return false;
  await forEachLimited(files, async (item) => {
    if (!intact) return;
    const info = await lstat(join(worktree, item.path), { bigint: true }).catch(() => null);
    if (!info?.isFile() || String(info.ino) !== item.ino) intact = false;
  });
  return intact;
}

/**
 * Moves the roots out of the worktree where setup made them into a new entry for `key`, hashes
 * everything, and publishes the entry (a rename: readers see all of it or none). The caller holds
 * the key's lock and links the entry back into the worktree. An entry with a file that contains
 * one of the `credentials` is never published: the paths come back instead, and the roots are gone.
 */
export async function storeEntry(
  cacheDir: string,
  key: string,
  worktree: string,
  roots: readonly string[],
  credentials: readonly string[] = [],
): Promise<CacheEntry | { leaks: string[] }> {
  const building = join(cacheDir, `.build-${key}-${randomBytes(4).toString('hex')}`);
  await mkdir(join(building, 'tree'), { recursive: true, mode: 0o700 });
  try {
    await moveInto(worktree, join(building, 'tree'), roots);
    const { items, leaks } = await readTree(join(building, 'tree'), roots, worktree, credentials);
    if (leaks.length > 0) {
      await rm(building, { recursive: true, force: true });
      return { leaks };
    }
    const manifest: Manifest = {
      version: 1,
      id: randomBytes(8).toString('hex'),
      key,
      createdAt: new Date().toISOString(),
      roots: [...roots],
      items,
    };
    await writeFile(join(building, 'manifest.json'), JSON.stringify(manifest), { mode: 0o600 });
    await rename(building, join(cacheDir, key));
    return { dir: join(cacheDir, key), manifest };
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
}

/** Removes an entry (first renamed away, so no reader links from a half-deleted tree). */
export async function discardEntry(cacheDir: string, key: string): Promise<void> {
  const trash = join(cacheDir, `.trash-${randomBytes(4).toString('hex')}`);
  try {
    await rename(join(cacheDir, key), trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

/** Removes what a crashed build or removal left for this key; the caller holds the key's lock. */
export async function removeLeftovers(cacheDir: string, key: string): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (name.startsWith(`.build-${key}-`)) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
}

/** Keeps the most recently used entries (use: their last check), removing the rest. */
export async function evictOld(cacheDir: string, keep = MAX_ENTRIES): Promise<string[]> {
  const names = (await readdir(cacheDir).catch(() => [] as string[])).filter((name) => /^[0-9a-f]{32,}$/.test(name));
  const used = await Promise.all(names.map(async (name) => ({ name, at: await lastUse(join(cacheDir, name)) })));
  const old = used
    .sort((a, b) => b.at - a.at)
    .slice(keep)
    .map((entry) => entry.name);
  for (const name of old) await discardEntry(cacheDir, name);
  return old;
}

async function lastUse(dir: string): Promise<number> {
  const checked = await stat(join(dir, 'checked.json')).catch(() => null);
  return checked?.mtimeMs ?? (await stat(dir).catch(() => null))?.mtimeMs ?? 0;
}

async function readCheckedCtimes(entry: CacheEntry): Promise<Map<number, string>> {
  const text = await readFile(join(entry.dir, 'checked.json'), 'utf8').catch(() => '[]');
  try {
    return new Map(JSON.parse(text) as Array<[number, string]>);
  } catch {
    return new Map();
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const draft = `${path}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, text, { mode: 0o600 });
  await rename(draft, path);
}
