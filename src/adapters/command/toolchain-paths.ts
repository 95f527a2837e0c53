import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { PARTLY_SHOWN_PATHS } from './system-paths.js';

// A PATH entry named like this sits in an installation prefix whose other parts (lib/, versions/) the tools need.
const PREFIX_CHILD = new Set(['bin', 'sbin', 'shims']);
// Version managers that keep a whole installation in one directory of the home. Any other directory
// directly in the home (~/.local, ~/.config) holds much more than tools: only its PATH entry is shown.
const TOOLCHAIN_HOMES = new Set([
  '.nvm',
  '.pyenv',
  '.cargo',
  '.rustup',
  '.rbenv',
  '.volta',
  '.deno',
  '.bun',
  '.sdkman',
  '.asdf',
  '.goenv',
  '.nodenv',
  '.fnm',
  '.n',
  'go',
]);

/**
 * Directories to mount read-only so that tools on PATH outside the system directories (nvm's node,
 * pyenv's python, cargo) work in the sandbox: each entry's installation prefix, never the home
 * directory itself or an ancestor of it.
 */
export function toolchainPaths(
  pathVariable: string | undefined,
  options: { home: string; systemPaths: readonly string[]; extra?: readonly string[] },
): string[] {
  const home = resolve(options.home);
  const inside = (path: string, root: string) =>
    path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
  const candidates: string[] = [];
  for (const entry of [...(pathVariable ?? '').split(':'), ...(options.extra ?? [])]) {
    if (!entry || !isAbsolute(entry) || !isDirectory(entry)) continue;
    const path = resolve(entry);
    if (options.systemPaths.some((root) => inside(path, root))) continue;
    const prefix = PREFIX_CHILD.has(basename(path)) ? dirname(path) : path;
    const unknownHomeDirectory = dirname(prefix) === home && !TOOLCHAIN_HOMES.has(basename(prefix));
    // A repository's own bin/ (direnv, binstubs) is not an installation: its parent is the checkout.
    const repository = existsSync(join(prefix, '.git'));
    // `/opt/bin` on PATH shows that directory, never all of /opt.
    const partly = (dir: string) => PARTLY_SHOWN_PATHS.includes(dir);
    const chosen =
      prefix === sep || partly(prefix) || inside(home, prefix) || unknownHomeDirectory || repository ? path : prefix;
    if (chosen === sep || partly(chosen) || inside(home, chosen)) continue;
    candidates.push(chosen);
  }
  const unique = [...new Set(candidates)].sort();
  return unique.filter((path) => !unique.some((other) => other !== path && inside(path, other)));
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
