import { access, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editFileTool } from '../../src/agent/tools/edit-file.js';
import { listDirectory } from '../../src/agent/tools/list-directory.js';
import { openForRead } from '../../src/agent/tools/safe-fs.js';
import { readFileTool } from '../../src/agent/tools/read-file.js';
import { searchTool } from '../../src/agent/tools/search.js';
import { writeFileTool } from '../../src/agent/tools/write-file.js';
import { tempDir } from '../support/temp-dir.js';
import { toolSandbox } from '../support/tool-context.js';

const FILES = { 'src/a.ts': 'export const a = 1;\n', 'README.md': '# readme\n' };
const ESCAPE = 'outside the repository through a symbolic link';
const args = (value: unknown) => JSON.stringify(value);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A directory outside the worktree holding a secret, as a user's home would. */
async function outsideWithSecret(): Promise<string> {
  const outside = await tempDir('fanout-outside-');
  await writeFile(join(outside, 'secret.txt'), 'CANARY-SECRET-42\n');
  return outside;
}

describe('agent file tools and symbolic links', () => {
  it('refuses a write through a dangling link to an outside file, and creates nothing there', async () => {
    const outside = await tempDir('fanout-outside-');
    const context = await toolSandbox(FILES, ['**']);
    await symlink(join(outside, 'planted.txt'), join(context.root, 'src/x'));
    await symlink(
      '../../../../../../../../../../..' + join(outside, 'relative-planted.txt'),
      join(context.root, 'src/y'),
    );

    const absolute = await writeFileTool.run(args({ path: 'src/x', content: 'x' }), context);
    const relative = await writeFileTool.run(args({ path: 'src/y', content: 'x' }), context);
    const edit = await editFileTool.run(args({ path: 'src/x', oldText: 'a', newText: 'b' }), context);

    for (const outcome of [absolute, relative, edit])
      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(ESCAPE) });
    expect(await exists(join(outside, 'planted.txt'))).toBe(false);
    expect(await exists(join(outside, 'relative-planted.txt'))).toBe(false);
  });

  it('refuses a dangling chain that leaves through its second link', async () => {
    const outside = await tempDir('fanout-outside-');
    const context = await toolSandbox(FILES, ['**']);
    await symlink('second', join(context.root, 'src/first'));
    await symlink(join(outside, 'planted.txt'), join(context.root, 'src/second'));

    const outcome = await writeFileTool.run(args({ path: 'src/first', content: 'x' }), context);

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(ESCAPE) });
    expect(await exists(join(outside, 'planted.txt'))).toBe(false);
  });

  it('refuses a chain of existing links that leaves through its second link, for reads and writes', async () => {
    const outside = await outsideWithSecret();
    const context = await toolSandbox(FILES, ['**']);
    await symlink('hop', join(context.root, 'src/chain'));
    await symlink(`../${'../'.repeat(20)}${outside}`, join(context.root, 'src/hop'));

    const read = await readFileTool.run(args({ path: 'src/chain/secret.txt' }), context);
    const write = await writeFileTool.run(args({ path: 'src/chain/planted.txt', content: 'x' }), context);

    expect(read).toMatchObject({ ok: false, error: expect.stringContaining(ESCAPE) });
    expect(write).toMatchObject({ ok: false, error: expect.stringContaining(ESCAPE) });
    expect(await exists(join(outside, 'planted.txt'))).toBe(false);
  });

  it('refuses a link to an outside directory for read, write and list, and search skips it', async () => {
    const outside = await outsideWithSecret();
    const context = await toolSandbox(FILES, ['**']);
    await symlink(outside, join(context.root, 's'));

    const read = await readFileTool.run(args({ path: 's/secret.txt' }), context);
    const write = await writeFileTool.run(args({ path: 's/planted.txt', content: 'x' }), context);
    const list = await listDirectory.run(args({ path: 's' }), context);
    const search = await searchTool.run(args({ query: 'CANARY' }), context);
    const everything = await searchTool.run(args({ query: 'e' }), context);

    for (const outcome of [read, write, list])
      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(ESCAPE) });
    expect(search).toEqual({ ok: true, output: 'no matches for "CANARY"\n(1 symbolic link(s) not followed)' });
    expect(JSON.stringify(everything)).not.toContain('CANARY-SECRET');
    expect(await exists(join(outside, 'planted.txt'))).toBe(false);
  });

  it('refuses a link into .git, even one that stays inside the worktree', async () => {
    const context = await toolSandbox(FILES, ['**']);
    await mkdir(join(context.root, '.git'));
    await writeFile(join(context.root, '.git/config'), '[core]\n');
    await symlink('../.git/config', join(context.root, 'src/config'));

    const read = await readFileTool.run(args({ path: 'src/config' }), context);
    const write = await writeFileTool.run(
      args({ path: 'src/config', content: '[core]\n\tfsmonitor = evil\n' }),
      context,
    );

    for (const outcome of [read, write])
      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('leads into .git/') });
    expect(await readFile(join(context.root, '.git/config'), 'utf8')).toBe('[core]\n');
  });

  it('follows a link that stays inside for reads, and lists links without following them', async () => {
    const outside = await outsideWithSecret();
    const context = await toolSandbox(FILES, ['src/']);
    await symlink('a.ts', join(context.root, 'src/alias.ts'));
    await symlink(outside, join(context.root, 'src/away'));

    const read = await readFileTool.run(args({ path: 'src/alias.ts' }), context);
    const listing = await listDirectory.run(args({ path: 'src' }), context);

    expect(read).toEqual({ ok: true, output: 'src/a.ts (1 lines)\nexport const a = 1;' });
    expect(listing).toEqual({ ok: true, output: `src/ (3 entries):\na.ts\nalias.ts@ -> a.ts\naway@ -> ${outside}` });
  });

  it('checks the scope where a write through a link lands: an in-scope link cannot write an out-of-scope file', async () => {
    const context = await toolSandbox(FILES, ['src/']);
    await symlink('../README.md', join(context.root, 'src/readme-link'));
    await symlink('a.ts', join(context.root, 'src/alias.ts'));

    const refused = await writeFileTool.run(args({ path: 'src/readme-link', content: 'hacked' }), context);
    const allowed = await writeFileTool.run(args({ path: 'src/alias.ts', content: 'export const a = 2;\n' }), context);

    expect(refused).toMatchObject({
      ok: false,
      error: expect.stringContaining(
        '"src/readme-link" leads (through a symbolic link) to "README.md", which is outside this subtask\'s write scope',
      ),
    });
    expect(await readFile(join(context.root, 'README.md'), 'utf8')).toBe('# readme\n');
    expect(allowed).toMatchObject({ ok: true, changedFiles: ['src/a.ts'] });
    expect(await readFile(join(context.root, 'src/a.ts'), 'utf8')).toBe('export const a = 2;\n');
  });

  it('refuses to write through a hard link, which would change the file elsewhere too', async () => {
    const outside = await outsideWithSecret();
    const context = await toolSandbox(FILES, ['**']);
    await link(join(outside, 'secret.txt'), join(context.root, 'src/hard.txt'));

    const outcome = await writeFileTool.run(args({ path: 'src/hard.txt', content: 'overwritten' }), context);

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('has 2 hard links') });
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('CANARY-SECRET-42\n');
  });

  it('opens files without following a final link, so a link swapped in after the path check fails', async () => {
    const outside = await outsideWithSecret();
    const context = await toolSandbox(FILES, ['**']);
    await symlink(join(outside, 'secret.txt'), join(context.root, 'src/swapped'));

    await expect(openForRead(join(context.root, 'src/swapped'), 'src/swapped')).rejects.toThrow(
      '"src/swapped" is a symbolic link',
    );
  });
});
