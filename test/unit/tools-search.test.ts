import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { searchTool } from '../../src/agent/tools/search.js';
import { toolSandbox } from '../support/tool-context.js';

const args = (value: unknown) => JSON.stringify(value);

describe('search', () => {
  it('stops at once when the tool call is aborted, and says so', async () => {
    const context = await toolSandbox({ 'src/a.ts': 'needle\n', 'src/b.ts': 'needle\n' }, ['**']);

    const outcome = await searchTool.run(args({ query: 'needle' }), { ...context, signal: AbortSignal.abort() });

    expect(outcome).toEqual({
      ok: true,
      output:
        'no matches for "needle"\n(search stopped early because the time for this tool call is up; results are partial, narrow the search with path)',
    });
  });

  it('skips .git and node_modules and searches hidden files', async () => {
    const context = await toolSandbox(
      { 'src/a.ts': 'needle\n', 'node_modules/x/index.js': 'needle\n', '.env.example': 'needle=1\n' },
      ['**'],
    );
    await mkdir(join(context.root, '.git'));
    await writeFile(join(context.root, '.git/config'), 'needle\n');

    const outcome = await searchTool.run(args({ query: 'needle' }), context);

    expect(outcome).toEqual({ ok: true, output: '2 match(es):\n.env.example:1: needle=1\nsrc/a.ts:1: needle' });
  });
});
