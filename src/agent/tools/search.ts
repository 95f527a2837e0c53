import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { resolveInside } from './path-guard.js';
import { assertRegularFile, openForRead, readBounded } from './safe-fs.js';
import { regularFilesUnder, type WalkedFile, type WalkSkips } from './search-walk.js';
import { ToolError } from './tool-context.js';

const MAX_RESULTS = 100;
const MAX_FILE_BYTES = 1024 * 1024;
/** Bounds on one search, so a huge or hostile tree cannot hold the agent's time or memory. */
const SEARCH_LIMITS = { files: 20_000, bytes: 64 * 1024 * 1024 } as const;

/** Plain-text search over the worktree's regular files; symbolic links are not followed. */
export const searchTool = defineTool({
  name: 'search',
  description:
    'Search file contents for a plain-text string. Returns "path:line: text" for each match (at most 100). Symbolic links are not followed.',
  schema: z
    .object({
      query: z.string().min(1),
      path: z.string().optional().describe('Directory to search in; the whole repository by default'),
      ignoreCase: z.boolean().optional(),
    })
    .strict(),
  async execute({ query, path, ignoreCase }, context) {
    const start = await resolveInside(context.root, path ?? '.');
    if (!start.stats) throw new ToolError(`"${start.relative}" does not exist`);
    if (!start.stats.isDirectory()) assertRegularFile(start.stats, start.relative);
    const skips: WalkSkips = { symbolicLinks: 0 };
    const files = start.stats.isDirectory() ? regularFilesUnder(start.absolute, start.relative, skips) : oneFile(start);
    const needle = ignoreCase ? query.toLowerCase() : query;
    const results: string[] = [];
    let total = 0;
    let visited = 0;
    let bytes = 0;
    let stopped: string | null = null;
    for await (const file of files) {
      // Checked between files: the agent loop aborts the signal when this call's time is up.
      if (context.signal?.aborted) stopped = 'the time for this tool call is up';
      else if (visited >= SEARCH_LIMITS.files) stopped = `it visited ${SEARCH_LIMITS.files} files`;
      if (stopped) break;
      visited += 1;
      const read = await readForSearch(file, SEARCH_LIMITS.bytes - bytes);
      if (read === 'over-budget') {
        stopped = `it read ${bytes} bytes, near its limit of ${SEARCH_LIMITS.bytes}`;
        break;
      }
      if (read === null) continue;
      bytes += read.bytes;
      read.text.split('\n').forEach((line, index) => {
        if (!(ignoreCase ? line.toLowerCase() : line).includes(needle)) return;
        total += 1;
        if (results.length < MAX_RESULTS) results.push(`${file.relative}:${index + 1}: ${line.trim().slice(0, 200)}`);
      });
    }
    const notes = [
      ...(total > results.length ? [`(${total - results.length} more matches not shown; narrow the search)`] : []),
      ...(skips.symbolicLinks > 0 ? [`(${skips.symbolicLinks} symbolic link(s) not followed)`] : []),
      ...(stopped
        ? [`(search stopped early because ${stopped}; results are partial, narrow the search with path)`]
        : []),
    ]
      .map((note) => `\n${note}`)
      .join('');
    if (total === 0) return { ok: true, output: `no matches for "${query}"${notes}` };
    return { ok: true, output: `${total} match(es):\n${results.join('\n')}${notes}` };
  },
});

async function* oneFile(file: WalkedFile): AsyncGenerator<WalkedFile> {
  yield file;
}

/**
 * A file's text, null when it is skipped (swapped for a link or special file, too large, binary),
 * or 'over-budget' when reading it would pass what is left of the search's byte budget.
 */
async function readForSearch(
  file: WalkedFile,
  budget: number,
): Promise<{ text: string; bytes: number } | null | 'over-budget'> {
  const opened = await openForRead(file.absolute, file.relative).catch((error: unknown) => {
    if (error instanceof ToolError) return null;
    throw error;
  });
  if (!opened) return null;
  try {
    if (opened.stats.size > MAX_FILE_BYTES) return null;
    if (opened.stats.size > budget) return 'over-budget';
    // Bounded even if the file grew after fstat.
    const read = await readBounded(opened.handle, Math.min(MAX_FILE_BYTES, budget), undefined, 'search');
    if (!read.complete || read.buffer.subarray(0, 8192).includes(0)) return null;
    return { text: read.buffer.toString('utf8'), bytes: read.buffer.length };
  } finally {
    await opened.handle.close();
  }
}
