import { dirname, resolve } from 'node:path';
import { SYSTEM_PATHS } from './system-paths.js';

/** Where Fanout itself lives and what it read its secrets and settings from. */
export interface OwnPlaces {
  /** The directory Fanout was started from (where `.env` is read). */
  startDirectory: string;
  /** Fanout's own installation (its package root). */
  installDirectory: string;
  /** The `.env` file read at start, if any. */
  dotEnvFile?: string;
  /** PRIVATE_KEY_PATH, as given (relative to the start directory). */
  privateKeyPath?: string;
  /** Directories a command must keep (node's own installation): never hidden whole. */
  keep: readonly string[];
}

// Kernel file systems: a key at /dev/fd/63 (`<(vault read ...)`) is a descriptor, closed before any command.
const VIRTUAL = ['/dev', '/proc', '/sys'];

/**
 * Fanout's own paths that no command may see: the directory it started from, its installation,
 * the `.env` and private key files and the key's directory. A directory that is, or holds, a
 * system directory or one the commands need (`/`, a prefix of node's installation) cannot be
 * hidden whole; its files still are.
 */
export function ownPaths(places: OwnPlaces): string[] {
  const start = resolve(places.startDirectory);
  const key = places.privateKeyPath ? resolve(start, places.privateKeyPath) : undefined;
  const directories = [start, resolve(places.installDirectory), ...(key ? [dirname(key)] : [])];
  const files = [places.dotEnvFile, key]
    .filter((path): path is string => path !== undefined)
    .map((path) => resolve(path));
  const needed = [...SYSTEM_PATHS, ...places.keep.map((path) => resolve(path))];
  const hideable = (path: string) =>
    !VIRTUAL.some((root) => isInside(path, root)) && !needed.some((kept) => isInside(kept, path));
  return [...new Set([...directories, ...files])].filter(hideable);
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}
