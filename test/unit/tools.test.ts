import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editFileTool } from '../../src/agent/tools/edit-file.js';
import { listDirectory } from '../../src/agent/tools/list-directory.js';
import { readFileTool } from '../../src/agent/tools/read-file.js';
import { runCommandTool } from '../../src/agent/tools/run-command.js';
import { searchTool } from '../../src/agent/tools/search.js';
import { writeFileTool } from '../../src/agent/tools/write-file.js';
import type { CommandRequest, CommandResult, CommandRunner } from '../../src/ports/command-runner.js';
import { tempDir } from '../support/temp-dir.js';
import { toolSandbox } from '../support/tool-context.js';

const FILES = {
  'src/a.ts': 'export const a = 1;\nexport const b = 2;\n',
  'src/b.ts': 'const x = 1;\nconst x2 = 1;\n',
  'README.md': '# readme\n',
};
const args = (value: unknown) => JSON.stringify(value);

describe('agent tools', () => {
  it('writes inside the scope and refuses outside it, naming the scope; the refused file is untouched', async () => {
    const context = await toolSandbox(FILES, ['src/', 'docs/guide.md']);
    expect(await writeFileTool.run(args({ path: 'src/new/c.ts', content: 'x\n' }), context)).toMatchObject({
      ok: true,
      changedFiles: ['src/new/c.ts'],
    });
    const refused = await writeFileTool.run(args({ path: 'README.md', content: 'hacked' }), context);
    expect(refused).toEqual({
      ok: false,
      error: expect.stringContaining(
        'write refused: "README.md" is outside this subtask\'s write scope (allowed: src/, docs/guide.md)',
      ),
    });
    expect(await readFile(join(context.root, 'README.md'), 'utf8')).toBe('# readme\n');
  });

  it.each([
    ['../outside.txt', "leaves the repository ('..' is not allowed)"],
    ['src/../../outside.txt', "leaves the repository ('..' is not allowed)"],
    ['/etc/passwd', 'is absolute'],
    ['.git/config', 'inside .git/'],
    ['src/.git/hooks/x', 'inside .git/'],
  ])('refuses the path %j for reads and writes', async (path, message) => {
    const context = await toolSandbox(FILES, ['**']);
    const write = await writeFileTool.run(args({ path, content: 'x' }), context);
    const read = await readFileTool.run(args({ path }), context);
    expect(write).toMatchObject({ ok: false, error: expect.stringContaining(message) });
    expect(read).toMatchObject({ ok: false, error: expect.stringContaining(message) });
  });

  it('refuses to follow a symbolic link out of the worktree', async () => {
    const outside = await tempDir('fanout-outside-');
    await writeFile(join(outside, 'secret.txt'), 'top secret');
    const context = await toolSandbox(FILES, ['**']);
    await symlink(outside, join(context.root, 'link'));
    await symlink(join(outside, 'secret.txt'), join(context.root, 'src/secret-link.txt'));
    for (const outcome of [
      await readFileTool.run(args({ path: 'src/secret-link.txt' }), context),
      await writeFileTool.run(args({ path: 'link/planted.txt', content: 'x' }), context),
      await writeFileTool.run(args({ path: 'src/secret-link.txt', content: 'x' }), context),
      await listDirectory.run(args({ path: 'link' }), context),
    ]) {
      expect(outcome).toMatchObject({
        ok: false,
        error: expect.stringContaining('outside the repository through a symbolic link'),
      });
    }
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
  });

  it('tells the model when arguments are missing, malformed or wrong, instead of defaulting', async () => {
    const context = await toolSandbox(FILES, ['**']);
    expect(await writeFileTool.run('', context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('write_file needs arguments'),
    });
    expect(await writeFileTool.run('{"path": "a.ts", "content": "x', context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('not valid JSON'),
    });
    expect(await writeFileTool.run(args({ path: 'a.ts' }), context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('content:'),
    });
    expect(await listDirectory.run(args({}), context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('path:'),
    });
  });

  it('edits an exact unique snippet and explains a missing or ambiguous one', async () => {
    const context = await toolSandbox(FILES, ['src/']);
    expect(
      await editFileTool.run(args({ path: 'src/a.ts', oldText: 'const b = 2', newText: 'const b = 3' }), context),
    ).toMatchObject({ ok: true });
    expect(await readFile(join(context.root, 'src/a.ts'), 'utf8')).toBe('export const a = 1;\nexport const b = 3;\n');
    expect(await editFileTool.run(args({ path: 'src/a.ts', oldText: 'nope', newText: '' }), context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('was not found'),
    });
    expect(await editFileTool.run(args({ path: 'src/b.ts', oldText: ' = 1;', newText: '' }), context)).toMatchObject({
      ok: false,
      error: expect.stringContaining('appears 2 times'),
    });
  });

  it('reads line ranges, lists directories and searches', async () => {
    const context = await toolSandbox(FILES, ['**']);
    await mkdir(join(context.root, '.git'));
    expect(await readFileTool.run(args({ path: 'src/a.ts', startLine: 2, endLine: 2 }), context)).toEqual({
      ok: true,
      output: 'src/a.ts (lines 2-2 of 2)\nexport const b = 2;',
    });
    const listing = await listDirectory.run(args({ path: '.' }), context);
    expect(listing).toEqual({ ok: true, output: './ (2 entries):\nREADME.md\nsrc/' });
    expect(await searchTool.run(args({ query: 'const x' }), context)).toEqual({
      ok: true,
      output: '2 match(es):\nsrc/b.ts:1: const x = 1;\nsrc/b.ts:2: const x2 = 1;',
    });
  });

  it("passes the worktree's git directories and the network permission to the command runner", async () => {
    const requests: CommandRequest[] = [];
    const result: CommandResult = {
      exitCode: 0,
      signal: null,
      stdout: 'ok',
      stderr: '',
      timedOut: false,
      truncated: false,
      durationMs: 1,
    };
    const runner: CommandRunner = {
      confinesProcesses: false,
      async run(request) {
        requests.push(request);
        return result;
      },
      async privateHome() {
        return { path: '/nonexistent', async dispose() {} };
      },
    };
    const context = await toolSandbox(FILES, ['**']);
    const git = { gitDir: '/repo/.git/worktrees/w', commonDir: '/repo/.git' };

    await runCommandTool.run(args({ command: 'git status' }), { ...context, runner, git, network: false });
    await runCommandTool.run(args({ command: 'true' }), { ...context, runner });

    expect(requests[0]).toMatchObject({ argv: ['bash', '-c', 'git status'], git, network: false });
    expect(requests[1]).not.toHaveProperty('git');
    expect(requests[1]).not.toHaveProperty('network');
  });

  it('shows the model no configured secret, in output or in errors', async () => {
    const context = {
      ...(await toolSandbox({ 'notes.txt': 'token=sk-live-secret-value\n' }, ['**'])),
      redact: (text: string) => text.split('sk-live-secret-value').join('[redacted]'),
    };
    expect(await readFileTool.run(args({ path: 'notes.txt' }), context)).toEqual({
      ok: true,
      output: 'notes.txt (1 lines)\ntoken=[redacted]',
    });
    expect(await readFileTool.run(args({ path: 'sk-live-secret-value.txt' }), context)).toMatchObject({
      ok: false,
      error: '"[redacted].txt" does not exist',
    });
  });
});
