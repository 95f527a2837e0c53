import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Parses a JSON file, or null when it does not exist. */
export async function readJsonFile<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes pretty JSON to a temporary file and renames it over the target: readers see old or new, never half. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}

/** A single JSON document on disk, for small caches. */
export function jsonFileStorage(path: string): { load(): Promise<unknown>; save(value: unknown): Promise<void> } {
  return { load: () => readJsonFile(path), save: (value) => writeJsonFile(path, value) };
}
