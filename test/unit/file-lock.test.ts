import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimLock, holdsLock, keepFresh, releaseLock, withFileLock } from '../../src/adapters/file-lock.js';
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

describe('claimLock', () => {
  it('keeps a held lock fresh, so that a live holder is never taken for dead; releases only its own', async () => {
    const lock = join(await tempDir(), 'slot.lock');
    const holder = (await claimLock(lock))!;
    // Made to look untouched for 31 s: the heartbeat brings it back before anyone breaks it.
    const past = new Date(Date.now() - 31_000);
    await utimes(lock, past, past);
    const stop = keepFresh(lock, holder, 20);
    await expect.poll(async () => (await stat(lock)).mtimeMs > Date.now() - 5_000).toBe(true);
    expect(await claimLock(lock)).toBeNull();
    stop();
    // Taken over meanwhile (written by another holder): releasing does not free their lock.
    await writeFile(lock, `${process.pid} ${hostname()} someoneelse`);
    expect(await holdsLock(lock, holder)).toBe(false);
    await releaseLock(lock, holder);
    expect(await readFile(lock, 'utf8')).toContain('someoneelse');
  });
});
