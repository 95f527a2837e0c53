import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editFileTool } from '../../src/agent/tools/edit-file.js';
import { MAX_RANGED_READ_BYTES, readFileTool } from '../../src/agent/tools/read-file.js';
import { searchTool } from '../../src/agent/tools/search.js';
import { writeFileTool } from '../../src/agent/tools/write-file.js';
import { toolSandbox } from '../support/tool-context.js';

const FILES = { 'src/a.ts': 'export const a = 1;\n' };
const args = (value: unknown) => JSON.stringify(value);
// Short on purpose: a tool that blocks on a FIFO must fail this test, not hang the suite.
const FIFO_TEST_TIMEOUT_MS = 5_000;

const fifos: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  // A tool stuck opening a FIFO (the bug these tests catch) is released by opening the other end,
  // so a failing run still ends. Synchronous: the stuck open may hold a libuv pool thread.
  for (const fifo of fifos.splice(0)) {
    for (const flags of [constants.O_RDONLY | constants.O_NONBLOCK, constants.O_WRONLY | constants.O_NONBLOCK]) {
      try {
        closeSync(openSync(fifo, flags));
      } catch {
        // No one waiting at the other end: nothing to release.
      }
    }
  }
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function makeFifo(path: string): void {
  execFileSync('mkfifo', [path]);
  fifos.push(path);
}

describe('agent file tools and files that are not regular', () => {
  it(
    'refuses a FIFO the agent made for read, write, edit and search, at once',
    async () => {
      const context = await toolSandbox(FILES, ['**']);
      makeFifo(join(context.root, 'src/pipe'));

      const read = await readFileTool.run(args({ path: 'src/pipe' }), context);
      const ranged = await readFileTool.run(args({ path: 'src/pipe', startLine: 1, endLine: 2 }), context);
      const write = await writeFileTool.run(args({ path: 'src/pipe', content: 'x' }), context);
      const edit = await editFileTool.run(args({ path: 'src/pipe', oldText: 'x', newText: 'y' }), context);
      const searchIt = await searchTool.run(args({ query: 'x', path: 'src/pipe' }), context);
      const searchAround = await searchTool.run(args({ query: 'const' }), context);

      for (const outcome of [read, ranged, write, edit, searchIt]) {
        expect(outcome).toMatchObject({
          ok: false,
          error: expect.stringContaining('"src/pipe" is a FIFO, not a regular file'),
        });
      }
      expect(searchAround).toEqual({ ok: true, output: '1 match(es):\nsrc/a.ts:1: export const a = 1;' });
    },
    FIFO_TEST_TIMEOUT_MS,
  );

  it(
    'refuses a FIFO reached through a link that stays inside',
    async () => {
      const context = await toolSandbox(FILES, ['**']);
      makeFifo(join(context.root, 'src/pipe'));
      execFileSync('ln', ['-s', 'pipe', join(context.root, 'src/to-pipe')]);

      const read = await readFileTool.run(args({ path: 'src/to-pipe' }), context);

      expect(read).toMatchObject({
        ok: false,
        error: expect.stringContaining('"src/pipe" is a FIFO, not a regular file'),
      });
    },
    FIFO_TEST_TIMEOUT_MS,
  );

  it('refuses a socket for reads and writes', async () => {
    const context = await toolSandbox(FILES, ['**']);
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(join(context.root, 'src/sock'), resolve));

    const read = await readFileTool.run(args({ path: 'src/sock' }), context);
    const write = await writeFileTool.run(args({ path: 'src/sock', content: 'x' }), context);

    for (const outcome of [read, write])
      expect(outcome).toMatchObject({
        ok: false,
        error: expect.stringContaining('"src/sock" is a socket, not a regular file'),
      });
  });

  it('reads at most a bounded prefix of a huge file and says how to read further', async () => {
    const context = await toolSandbox(FILES, ['**']);
    const line = `${'x'.repeat(63)}\n`;
    const lineCount = Math.ceil((MAX_RANGED_READ_BYTES * 1.5) / line.length);
    await writeFile(join(context.root, 'big.log'), line.repeat(lineCount));
    const readable = MAX_RANGED_READ_BYTES / line.length;

    const first = await readFileTool.run(args({ path: 'big.log', startLine: 1, endLine: 1 }), context);
    const last = await readFileTool.run(args({ path: 'big.log', startLine: lineCount, endLine: lineCount }), context);
    const whole = await readFileTool.run(args({ path: 'big.log' }), context);

    expect(first).toEqual({
      ok: true,
      output: expect.stringMatching(
        new RegExp(`^big\\.log \\(lines 1-1 of at least ${readable}; only the first ${MAX_RANGED_READ_BYTES} bytes`),
      ),
    });
    expect(last).toMatchObject({
      ok: false,
      error: expect.stringContaining(
        `has at least ${readable} lines; only the first ${MAX_RANGED_READ_BYTES} bytes of this file can be read, use run_command (e.g. sed -n '${lineCount},${lineCount}p')`,
      ),
    });
    expect(whole).toMatchObject({
      ok: false,
      error: expect.stringContaining('read it in parts with startLine and endLine'),
    });
  });
});
