import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

// Directories only an administrator can write. An agent's command (outside bubblewrap, as the same
// user) can put a `git` or `unshare` early on PATH (~/.local/bin, nvm's bin); Fanout's own
// programs must not be those.
const SYSTEM_DIRECTORIES = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

const resolved = new Map<string, string>();

/**
 * The absolute path of a program Fanout itself runs (git, bash, bwrap, unshare...): a system
 * directory's copy first, else the first on PATH as the process started, remembered for the
 * process's lifetime so that nothing planted later is picked up.
 */
export function systemProgram(name: string): string {
  let path = resolved.get(name);
  if (!path) {
    const candidates = [
      ...SYSTEM_DIRECTORIES,
      ...(process.env.PATH ?? '').split(delimiter).filter((dir) => isAbsolute(dir)),
    ];
    path = candidates.map((dir) => join(dir, name)).find(isExecutable) ?? name;
    resolved.set(name, path);
  }
  return path;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
