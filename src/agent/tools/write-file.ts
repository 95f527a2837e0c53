import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { assertRegularFile, writeRegularFile } from './safe-fs.js';
import { ToolError } from './tool-context.js';
import { assertWritable } from './write-guard.js';

/** Creates or replaces a file inside the write scope. */
export const writeFileTool = defineTool({
  name: 'write_file',
  writesFiles: true,
  description: 'Create a file or replace its whole content. Only files inside your write scope may be written.',
  schema: z.object({ path: z.string(), content: z.string() }).strict(),
  async execute({ path, content }, context) {
    const target = await resolveInside(context.root, path);
    assertWritable(target, context);
    if (target.stats?.isDirectory()) throw new ToolError(`"${target.relative}" is a directory`);
    if (target.stats) assertRegularFile(target.stats, target.relative);
    await writeRegularFile(context.root, target.relative, content, context.signal);
    const lines = content === '' ? 0 : content.split('\n').length - (content.endsWith('\n') ? 1 : 0);
    return {
      ok: true,
      output: `${target.stats ? 'replaced' : 'created'} ${target.relative} (${lines} lines, ${Buffer.byteLength(content)} bytes)`,
      changedFiles: [target.relative],
    };
  },
});
