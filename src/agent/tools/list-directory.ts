import { readdir, stat } from 'node:fs/promises';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { ToolError } from './tool-context.js';

const MAX_ENTRIES = 300;

/** Lists a directory of the worktree; directories end in `/`. */
export const listDirectory = defineTool({
  name: 'list_directory',
  description: 'List the files and directories in a directory of the repository (directories end in "/"). Use "." for the root.',
  schema: z.object({ path: z.string().describe('Directory path relative to the repository root') }).strict(),
  async execute({ path }, context) {
    const target = await resolveInside(context.root, path);
    const info = await stat(target.absolute).catch(() => null);
    if (!info) throw new ToolError(`"${target.relative}" does not exist`);
    if (!info.isDirectory()) throw new ToolError(`"${target.relative}" is a file, not a directory; use read_file`);
    const entries = (await readdir(target.absolute, { withFileTypes: true }))
      .filter((entry) => entry.name !== '.git')
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
      .sort();
    if (entries.length === 0) return { ok: true, output: `${target.relative}/ is empty` };
    const shown = entries.slice(0, MAX_ENTRIES);
    const more = entries.length > MAX_ENTRIES ? `\n(${entries.length - MAX_ENTRIES} more entries not shown)` : '';
    return { ok: true, output: `${target.relative}/ (${entries.length} entries):\n${shown.join('\n')}${more}` };
  },
});
