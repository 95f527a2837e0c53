import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { assertRegularFile, openForRead, readBounded } from './safe-fs.js';
import { ToolError } from './tool-context.js';

const MAX_WHOLE_FILE_BYTES = 256 * 1024;
/** Bytes a ranged read looks at, at most: later lines of a huge file are for `sed -n` in run_command. */
export const MAX_RANGED_READ_BYTES = 4 * 1024 * 1024;

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
    const shown = target.relative;
    if (!target.stats) throw new ToolError(`"${shown}" does not exist`);
    if (target.stats.isDirectory()) throw new ToolError(`"${shown}" is a directory; use list_directory`);
    assertRegularFile(target.stats, shown);
    const ranged = startLine !== undefined || endLine !== undefined;
    const { handle, stats } = await openForRead(target.absolute, shown);
    let read: { buffer: Buffer; complete: boolean };
    try {
      if (!ranged && stats.size > MAX_WHOLE_FILE_BYTES) throw tooLarge(shown, stats.size);
      read = await readBounded(
        handle,
        ranged ? MAX_RANGED_READ_BYTES : MAX_WHOLE_FILE_BYTES,
        context.signal,
        `reading "${shown}"`,
      );
    } finally {
      await handle.close();
    }
    // The file grew after fstat: the size check alone does not bound the read.
    if (!ranged && !read.complete) throw tooLarge(shown, stats.size);
    if (read.buffer.subarray(0, 8192).includes(0)) throw new ToolError(`"${shown}" is a binary file`);
    const lines = splitLines(read.buffer, read.complete);
    const from = startLine ?? 1;
    const to = Math.min(endLine ?? lines.length, lines.length);
    const cut = read.complete
      ? ''
      : `; only the first ${MAX_RANGED_READ_BYTES} bytes of this file can be read, use run_command (e.g. sed -n '${from},${endLine ?? from}p') for later lines`;
    if (lines.length > 0 && from > lines.length)
      throw new ToolError(`"${shown}" has ${read.complete ? 'only' : 'at least'} ${lines.length} lines${cut}`);
    if (to < from && lines.length > 0) throw new ToolError('endLine is before startLine');
    const body = lines.slice(from - 1, to).join('\n');
    const count = read.complete ? `${lines.length}` : `at least ${lines.length}`;
    const header = ranged ? `${shown} (lines ${from}-${to} of ${count}${cut})` : `${shown} (${count} lines)`;
    return { ok: true, output: `${header}\n${body}` };
  },
});

/** The file's lines; of a file read only in part, the last, partial line is dropped. */
function splitLines(buffer: Buffer, complete: boolean): string[] {
  const lines = buffer.toString('utf8').split('\n');
  if (!complete || lines.at(-1) === '') lines.pop();
  return lines;
}

function tooLarge(shown: string, size: number): ToolError {
  return new ToolError(`"${shown}" is ${size} bytes; read it in parts with startLine and endLine`);
}
