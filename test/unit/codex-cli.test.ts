import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODEX_CLI } from '../../src/adapters/agent-cli/codex-cli.js';
import { locateCli } from '../../src/adapters/agent-cli/locate-cli.js';
import { tempDir } from '../support/temp-dir.js';

describe('locating the codex CLI', () => {
  it("runs the native binary npm's launcher points at, with its vendor directory (and the rg there) shown to the sandbox", async () => {
    // PATH empty: Fanout's own install (the pinned devDependency) is where it is found.
    const binary = await locateCli(CODEX_CLI, { PATH: '' });

    expect(binary.version).toBe('0.171.0');
    expect(binary.path).toMatch(/@openai\/codex-[\w-]+\/vendor\/[\w-]+\/bin\/codex$/);
    expect(binary.installation).toEqual([join(binary.path, '..', '..')]);
    expect(existsSync(join(binary.installation[0]!, 'codex-path', 'rg'))).toBe(true);
  });

  it('refuses a codex outside the tested versions, naming them', async () => {
    const dir = await tempDir('fanout-codex-cli-');
    const old = join(dir, 'codex');
    await writeFile(old, '#!/bin/sh\necho "codex-cli 0.170.2"\n');
    await chmod(old, 0o755);

    await expect(locateCli(CODEX_CLI, { PATH: '/usr/bin:/bin', FANOUT_CODEX_PATH: old })).rejects.toThrow(
      /is codex 0\.170\.2; Fanout's codex backend is tested with 0\.171\.0 up to, not including, 0\.172\.0/,
    );
  });
});
