import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** Never searched: git's own data and installed dependencies. */
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);

export interface WalkedFile {
  absolute: string;
  relative: string;
}

/** What a walk passed over without entering, so the model can be told. */
export interface WalkSkips {
  symbolicLinks: number;
}

/**
 * The regular files under a directory, depth-first in name order. Entries are described by
 * readdir's own types (lstat, not stat), so a symbolic link is skipped, never followed, and FIFOs,
 * sockets and devices are skipped too: the walk cannot leave the directory or block on a file.
 * Directories are read lazily, so a consumer that stops early reads no more of them.
 */
export async function* regularFilesUnder(
  absolute: string,
  relative: string,
  skips: WalkSkips,
): AsyncGenerator<WalkedFile> {
  const stack: Array<WalkedFile & { directory: boolean }> = [{ absolute, relative, directory: true }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (!item.directory) {
      yield { absolute: item.absolute, relative: item.relative };
      continue;
    }
    // A directory removed meanwhile (by a command the agent started) is simply not there.
    const entries = await readdir(item.absolute, { withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((entry) => !SKIPPED_DIRECTORIES.has(entry.name.toLowerCase()))
      .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    for (const entry of names) {
      if (entry.isSymbolicLink()) {
        skips.symbolicLinks += 1;
        continue;
      }
      if (!entry.isDirectory() && !entry.isFile()) continue;
      const child = item.relative === '.' ? entry.name : posix.join(item.relative, entry.name);
      stack.push({ absolute: join(item.absolute, entry.name), relative: child, directory: entry.isDirectory() });
    }
  }
}
