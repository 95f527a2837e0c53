import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYSTEM_PATHS } from '../../src/adapters/command/bwrap-runner.js';
import { toolchainPaths } from '../../src/adapters/command/toolchain-paths.js';
import { tempDir } from '../support/temp-dir.js';

describe('tool directories shown to the sandbox', () => {
  it("mounts a version manager's installation, but of other home directories only the PATH entry, and never the home itself", async () => {
    const home = await tempDir('fanout-home-');
    for (const dir of ['.local/bin', '.nvm/versions/node/v20/bin', 'bin', '.cargo/bin'])
      await mkdir(join(home, dir), { recursive: true });
    const path = ['.local/bin', '.nvm/versions/node/v20/bin', 'bin', '.cargo/bin']
      .map((dir) => join(home, dir))
      .join(':');
    expect(toolchainPaths(`${path}:/usr/bin:relative/bin:/no/such/dir`, { home, systemPaths: SYSTEM_PATHS })).toEqual([
      join(home, '.cargo'),
      join(home, '.local/bin'),
      join(home, '.nvm/versions/node/v20'),
      join(home, 'bin'),
    ]);
  });

  it('never mounts a repository for its bin/ on PATH (direnv, binstubs): only the bin/ itself', async () => {
    const checkout = await tempDir('fanout-checkout-');
    await mkdir(join(checkout, '.git'));
    await mkdir(join(checkout, 'bin'));
    expect(toolchainPaths(join(checkout, 'bin'), { home: '/nonexistent-home', systemPaths: SYSTEM_PATHS })).toEqual([
      join(checkout, 'bin'),
    ]);
  });
});
