import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/adapters/file-lock.js';
import { tempDir } from '../support/temp-dir.js';

describe('withFileLock', () => {
  it('breaks at once a lock whose holder on this host was killed (not after the 30 s stale limit)', async () => {
    const lock = join(await tempDir(), 'x.lock');
    const gone = spawnSync('true').pid;
    await writeFile(lock, `${gone} ${hostname()} deadbeef`);
    const value = await withFileLock(lock, async () => 'ran');
    expect(value).toBe('ran');
    expect(existsSync(lock)).toBe(false);
  }, 10_000);

  it('makes a second caller wait for a live holder', async () => {
    const lock = join(await tempDir(), 'y.lock');
    const order: string[] = [];
    let release: () => void = () => undefined;
    const first = withFileLock(lock, async () => {
      order.push('first-start');
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first-end');
    });
    await expect.poll(() => existsSync(lock)).toBe(true);
    const second = withFileLock(lock, async () => order.push('second'));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first-start', 'first-end', 'second']);
  });
});
