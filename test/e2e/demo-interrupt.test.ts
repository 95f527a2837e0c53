import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { withTsxCache } from '../support/tsx-cache.js';

describe('Ctrl-C during fanout demo', () => {
  it('stops, says so without promising a resume, and deletes its temporary directory', async () => {
    const tmp = await tempDir('fanout-demo-interrupt-');
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'demo'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: tmp, TMPDIR: withTsxCache(tmp), FANOUT_SANDBOX: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Interrupt once the run is under way (its first line is printed when it starts).
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/\nRun \S+ on /.test(stdout)) resolve();
      }),
    );
    child.kill('SIGINT');
    await exited;
    expect(stderr).toContain('Interrupted: stopping agents and cleaning up.');
    expect(stderr + stdout).not.toContain('fanout resume');
    expect((await readdir(tmp)).filter((name) => name.startsWith('fanout-demo-'))).toEqual([]);
  }, 60_000);
});
