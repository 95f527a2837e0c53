import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { translateNoSpace } from './disk-full.js';

/** Fanout's state (run records, event logs, PR records) is readable by its user alone. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Parses a JSON file, or null when it does not exist. */
export async function readJsonFile<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Makes the directory and any missing parents private (0700). Only directories made here get the
 * mode: a parent the user already has (their home) keeps its own. The umask can only take bits
 * away from 0700, so a directory made here is never readable by others.
 */
export async function makePrivateDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Makes `path` private (0700) whether it is new or was left readable by an older Fanout. */
export async function ensurePrivateDirectory(path: string): Promise<void> {
  await makePrivateDirectory(path);
  await chmod(path, PRIVATE_DIR_MODE);
}

/**
 * Writes pretty JSON to a temporary file and renames it over the target: readers see old or new,
 * never half. The new file is 0600 exactly (chmod, so the umask does not decide), and since it
 * replaces the old one, a record that was readable by others becomes private when rewritten.
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await makePrivateDirectory(dirname(path));
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const handle = await open(temporary, 'wx', PRIVATE_FILE_MODE);
    try {
      await handle.chmod(PRIVATE_FILE_MODE);
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A single JSON document on disk, for small caches. */
export function jsonFileStorage(path: string): { load(): Promise<unknown>; save(value: unknown): Promise<void> } {
  return {
    load: () => readJsonFile(path),
    save: (value) =>
      writeJsonFile(path, value).catch((error: unknown) => {
        throw translateNoSpace(error, path);
      }),
  };
}
