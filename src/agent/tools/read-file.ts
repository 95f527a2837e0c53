import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { ToolError } from './tool-context.js';

const MAX_WHOLE_FILE_BYTES = 256 * 1024;

/** Reads a text file of the worktree, whole or a line range. */
export const readFileTool = defineTool({
  name: 'read_file',
  description: 'Read a text file. For large files pass startLine and endLine (1-based, inclusive).',
  schema: z
    .object({
      path: z.string(),
      startLine: z.number().int().min(1).optional(),
      endLine: z.number().int().min(1).optional(),
    })
    .strict(),
  async execute({ path, startLine, endLine }, context) {
    const target = await resolveInside(context.root, path);
    const info = await stat(target.absolute).catch(() => null);
    if (!info) throw new ToolError(`"${target.relative}" does not exist`);
    if (info.isDirectory()) throw new ToolError(`"${target.relative}" is a directory; use list_directory`);
    const ranged = startLine !== undefined || endLine !== undefined;
    if (!ranged && info.size > MAX_WHOLE_FILE_BYTES) {
      throw new ToolError(`"${target.relative}" is ${info.size} bytes; read it in parts with startLine and endLine`);
    }
    const buffer = await readFile(target.absolute);
    if (buffer.subarray(0, 8192).includes(0)) throw new ToolError(`"${target.relative}" is a binary file`);
    const lines = buffer.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const from = startLine ?? 1;
    const to = Math.min(endLine ?? lines.length, lines.length);
    if (lines.length > 0 && from > lines.length) throw new ToolError(`"${target.relative}" has only ${lines.length} lines`);
    if (to < from && lines.length > 0) throw new ToolError('endLine is before startLine');
    const body = lines.slice(from - 1, to).join('\n');
    const header = ranged ? `${target.relative} (lines ${from}-${to} of ${lines.length})` : `${target.relative} (${lines.length} lines)`;
    return { ok: true, output: `${header}\n${body}` };
  },
});
