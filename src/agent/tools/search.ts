import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';

const MAX_RESULTS = 100;
const MAX_FILE_BYTES = 1024 * 1024;
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);

/** Plain-text search over the worktree's files. */
export const searchTool = defineTool({
  name: 'search',
  description: 'Search file contents for a plain-text string. Returns "path:line: text" for each match (at most 100).',
  schema: z
    .object({
      query: z.string().min(1),
      path: z.string().optional().describe('Directory to search in; the whole repository by default'),
      ignoreCase: z.boolean().optional(),
    })
    .strict(),
  async execute({ query, path, ignoreCase }, context) {
    const start = await resolveInside(context.root, path ?? '.');
    const needle = ignoreCase ? query.toLowerCase() : query;
    const results: string[] = [];
    let total = 0;
    const visit = async (absolute: string, relative: string): Promise<void> => {
      const info = await stat(absolute).catch(() => null);
      if (!info) return;
      if (info.isDirectory()) {
        for (const entry of (await readdir(absolute)).sort()) {
          if (SKIPPED_DIRECTORIES.has(entry)) continue;
          await visit(join(absolute, entry), relative === '.' ? entry : posix.join(relative, entry));
        }
        return;
      }
      if (info.size > MAX_FILE_BYTES) return;
      const buffer = await readFile(absolute);
      if (buffer.subarray(0, 8192).includes(0)) return;
      buffer
        .toString('utf8')
        .split('\n')
        .forEach((line, index) => {
          if (!(ignoreCase ? line.toLowerCase() : line).includes(needle)) return;
          total += 1;
          if (results.length < MAX_RESULTS) results.push(`${relative}:${index + 1}: ${line.trim().slice(0, 200)}`);
        });
    };
    await visit(start.absolute, start.relative);
    if (total === 0) return { ok: true, output: `no matches for "${query}"` };
    const more = total > results.length ? `\n(${total - results.length} more matches not shown; narrow the search)` : '';
    return { ok: true, output: `${total} match(es):\n${results.join('\n')}${more}` };
  },
});
