import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { assertRegularFile, readRegularFile, writeRegularFile } from './safe-fs.js';
import { ToolError } from './tool-context.js';
import { assertWritable } from './write-guard.js';

/** Larger files are not edited in place: the whole text is held in memory twice. */
const MAX_EDIT_BYTES = 4 * 1024 * 1024;

/** Replaces one exact, unique snippet of a file inside the write scope. */
export const editFileTool = defineTool({
  name: 'edit_file',
  writesFiles: true,
  description:
    'Replace an exact snippet of a file with new text. oldText must appear exactly once; include enough surrounding lines to make it unique.',
  schema: z.object({ path: z.string(), oldText: z.string().min(1), newText: z.string() }).strict(),
  async execute({ path, oldText, newText }, context) {
    const target = await resolveInside(context.root, path);
    assertWritable(target, context);
    if (!target.stats) throw new ToolError(`"${target.relative}" does not exist; use write_file to create it`);
    assertRegularFile(target.stats, target.relative);
    const read = await readRegularFile(target.absolute, target.relative, MAX_EDIT_BYTES, context.signal);
    if (!read.complete)
      throw new ToolError(
        `"${target.relative}" is larger than ${MAX_EDIT_BYTES} bytes; it cannot be edited with edit_file`,
      );
    const content = read.buffer.toString('utf8');
    const first = content.indexOf(oldText);
    if (first === -1)
      throw new ToolError(
        `oldText was not found in ${target.relative}; read the file and copy the exact text, whitespace included`,
      );
    const count = content.split(oldText).length - 1;
    if (count > 1)
      throw new ToolError(
        `oldText appears ${count} times in ${target.relative}; include more surrounding lines so it appears once`,
      );
    await writeRegularFile(
      context.root,
      target.relative,
      content.slice(0, first) + newText + content.slice(first + oldText.length),
      context.signal,
    );
    return {
      ok: true,
      output: `edited ${target.relative}: replaced ${oldText.split('\n').length} line(s) with ${newText.split('\n').length}`,
      changedFiles: [target.relative],
    };
  },
});
