import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureLocalClone } from '../../src/adapters/forge/github/local-clone.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);

describe("Fanout's clone of a GitHub repository", () => {
  it('is made once when several jobs open the repository at the same moment', async () => {
    const dir = join(await tempDir(), 'repos', 'github.com', 'o', 'r');
    await Promise.all(Array.from({ length: 8 }, () => ensureLocalClone(dir)));
    const { stdout } = await exec('git', ['rev-parse', '--absolute-git-dir'], { cwd: dir });
    expect(stdout.trim()).toBe(join(dir, '.git'));
  });
});
