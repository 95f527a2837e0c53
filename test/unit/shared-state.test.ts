import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotSharedState } from '../../src/adapters/workspace/shared-state.js';
import { tempDir } from '../support/temp-dir.js';

describe('putting the shared git state back', () => {
  it('restores a planted hook and config, and never writes through a directory swapped for a link', async () => {
    const root = await tempDir('fanout-shared-');
    const common = join(root, '.git');
    await mkdir(join(common, 'hooks'), { recursive: true });
    await mkdir(join(common, 'modules/lib'), { recursive: true });
    await writeFile(join(common, 'config'), '[core]\n\tbare = false\n');
    await writeFile(join(common, 'modules/lib/config'), '[core]\n\tbare = false\n');
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    const guard = await snapshotSharedState(common);

    await writeFile(join(common, 'config'), '[core]\n\thooksPath = /tmp/evil\n');
    await writeFile(join(common, 'hooks/pre-commit'), '#!/bin/sh\necho pwned\n');
    await rm(join(common, 'modules/lib'), { recursive: true });
    await symlink(elsewhere, join(common, 'modules/lib'));

    expect(await guard.restore()).toEqual(['config', 'hooks/pre-commit', 'modules/lib/config']);
    expect(await readFile(join(common, 'config'), 'utf8')).toBe('[core]\n\tbare = false\n');
    expect(await readdir(join(common, 'hooks'))).toEqual([]);
    expect(await readFile(join(common, 'modules/lib/config'), 'utf8')).toBe('[core]\n\tbare = false\n');
    expect(await readdir(elsewhere)).toEqual([]);
  });
});
