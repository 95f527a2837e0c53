import { lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { SharedStateGuard } from '../../ports/workspace.js';

// Files in the shared git directory that make git run code or change how it reads files later:
// the config (core.hooksPath, core.fsmonitor, filters, aliases), hooks, attributes (drivers) and
// alternates, and the same in every submodule's git directory under `modules/`.
const WATCHED_FILES = ['config', 'config.worktree', 'info/attributes', 'objects/info/alternates'];
const WATCHED_DIRECTORIES = ['hooks'];

type Entry = { kind: 'file'; content: Buffer; mode: number } | { kind: 'link'; target: string };

/**
 * Snapshots the watched files of a git common directory; `restore` puts back whatever changed and
 * names it. One snapshot serves a whole run, so agents running at once never restore each other's
 * intermediate state.
 */
export async function snapshotSharedState(commonDir: string): Promise<SharedStateGuard> {
  const before = await readState(commonDir);
  return {
    async restore() {
      const after = await readState(commonDir);
      const changed: string[] = [];
      for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
        const was = before.get(path);
        if (sameEntry(was, after.get(path))) continue;
        changed.push(path);
        const absolute = join(commonDir, path);
        // A directory on the way swapped for a link would take the write elsewhere: unlink it first.
        await replaceLinkedParents(commonDir, path);
        await rm(absolute, { force: true, recursive: true });
        if (!was) continue;
        await mkdir(dirname(absolute), { recursive: true });
        if (was.kind === 'link') await symlink(was.target, absolute);
        else await writeFile(absolute, was.content, { mode: was.mode });
      }
      return changed;
    },
  };
}

async function replaceLinkedParents(commonDir: string, path: string): Promise<void> {
  const parts = path.split('/').slice(0, -1);
  for (let index = 1; index <= parts.length; index += 1) {
    const directory = join(commonDir, ...parts.slice(0, index));
    const info = await lstat(directory).catch(() => null);
    if (info && !info.isDirectory()) await rm(directory, { force: true });
  }
}

async function readState(commonDir: string): Promise<Map<string, Entry>> {
  const state = new Map<string, Entry>();
  const paths = [...WATCHED_FILES];
  for (const directory of WATCHED_DIRECTORIES) {
    // A watched directory swapped for a link is itself the change.
    const info = await lstat(join(commonDir, directory)).catch(() => null);
    if (info?.isSymbolicLink()) paths.push(directory);
    else if (info?.isDirectory()) paths.push(...(await listTree(commonDir, join(commonDir, directory))));
  }
  for (const moduleDir of await moduleGitDirs(commonDir, join(commonDir, 'modules'))) {
    const prefix = relative(commonDir, moduleDir);
    paths.push(...WATCHED_FILES.map((file) => join(prefix, file)));
    paths.push(...(await listTree(commonDir, join(moduleDir, 'hooks'))));
  }
  for (const path of paths) {
    const entry = await readEntry(join(commonDir, path));
    if (entry) state.set(path, entry);
  }
  return state;
}

/** Submodules' git directories under `modules/` (nested ones too), without walking their objects. */
async function moduleGitDirs(commonDir: string, directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  if (entries.some((entry) => entry.name === 'config' && entry.isFile())) {
    return [directory, ...(await moduleGitDirs(commonDir, join(directory, 'modules')))];
  }
  const found: string[] = [];
  for (const entry of entries)
    if (entry.isDirectory()) found.push(...(await moduleGitDirs(commonDir, join(directory, entry.name))));
  return found;
}

async function listTree(root: string, directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  const paths: string[] = [];
  for (const entry of entries) {
    const absolute = join(directory, entry.name);
    if (entry.isDirectory()) paths.push(...(await listTree(root, absolute)));
    else paths.push(relative(root, absolute));
  }
  return paths;
}

async function readEntry(path: string): Promise<Entry | null> {
  const info = await lstat(path).catch(() => null);
  if (!info) return null;
  if (info.isSymbolicLink()) return { kind: 'link', target: await readlink(path) };
  if (!info.isFile()) return null;
  return { kind: 'file', content: await readFile(path), mode: info.mode & 0o777 };
}

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.kind === 'link' || b.kind === 'link')
    return a.kind === b.kind && (a as { target: string }).target === (b as { target: string }).target;
  return a.mode === b.mode && a.content.equals(b.content);
}
