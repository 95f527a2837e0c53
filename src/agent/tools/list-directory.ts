import type { Dirent } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { ToolError } from './tool-context.js';

const MAX_ENTRIES = 300;

/** Lists a directory of the worktree without following the links in it; directories end in `/`. */
export const listDirectory = defineTool({
  name: 'list_directory',
  description:
    'List the files and directories in a directory of the repository (directories end in "/", symbolic links are shown as "name@ -> target"). Use "." for the root.',
  schema: z.object({ path: z.string().describe('Directory path relative to the repository root') }).strict(),
  async execute({ path }, context) {
    const target = await resolveInside(context.root, path);
    if (!target.stats) throw new ToolError(`"${target.relative}" does not exist`);
    if (target.stats.isFile()) throw new ToolError(`"${target.relative}" is a file, not a directory; use read_file`);
    if (!target.stats.isDirectory()) throw new ToolError(`"${target.relative}" is not a directory`);
    // withFileTypes describes each entry itself (lstat), never what a link points to.
    const entries = (await readdir(target.absolute, { withFileTypes: true }))
      .filter((entry) => entry.name.toLowerCase() !== '.git')
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (entries.length === 0) return { ok: true, output: `${target.relative}/ is empty` };
    const shown = await Promise.all(
      entries.slice(0, MAX_ENTRIES).map((entry) => describeEntry(entry, target.absolute)),
    );
    const more = entries.length > MAX_ENTRIES ? `\n(${entries.length - MAX_ENTRIES} more entries not shown)` : '';
    return { ok: true, output: `${target.relative}/ (${entries.length} entries):\n${shown.join('\n')}${more}` };
  },
});

/** One line of the listing: `dir/`, `file`, `link@ -> target`, or `name (FIFO)` and the like. */
async function describeEntry(entry: Dirent, directory: string): Promise<string> {
  if (entry.isDirectory()) return `${entry.name}/`;
  if (entry.isFile()) return entry.name;
  if (entry.isSymbolicLink()) {
    const target = await readlink(join(directory, entry.name)).catch(() => '?');
    return `${entry.name}@ -> ${target}`;
  }
  if (entry.isFIFO()) return `${entry.name} (FIFO)`;
  if (entry.isSocket()) return `${entry.name} (socket)`;
  if (entry.isCharacterDevice()) return `${entry.name} (character device)`;
  if (entry.isBlockDevice()) return `${entry.name} (block device)`;
  return `${entry.name} (special file)`;
}
