import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { systemProgram } from '../../src/adapters/system-programs.js';
import { tempDir } from '../support/temp-dir.js';

describe('the programs Fanout runs itself', () => {
  it('come from the system directories, not from a directory an agent could plant them in first on PATH', async () => {
    const planted = await tempDir('fanout-path-');
    await writeFile(join(planted, 'sort'), '#!/bin/sh\necho pwned\n');
    await chmod(join(planted, 'sort'), 0o755);
    vi.stubEnv('PATH', `${planted}:${process.env.PATH}`);
    try {
      expect(systemProgram('sort')).toMatch(/^\/(usr\/)?bin\/sort$/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
