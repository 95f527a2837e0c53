import { link, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { writtenSince } from '../../src/adapters/command/disk-quota.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;

describe('what the disk quota counts', () => {
  it('counts the files written since the first command, in every directory, each hard link once, and nothing older', async () => {
    const root = await tempDir();
    const home = await tempDir('fanout-home-');
    await writeFile(join(root, 'checked-out.bin'), Buffer.alloc(4 * MiB, 1));
    // File times come from a coarse clock: the mark is the first file time past the old file's.
    const old = (await stat(join(root, 'checked-out.bin'))).ctimeMs;
    let since = old;
    await vi.waitFor(async () => {
      await writeFile(join(root, 'probe'), '');
      since = (await stat(join(root, 'probe'))).ctimeMs;
      expect(since).toBeGreaterThan(old);
    });
    await mkdir(join(root, 'deep/er'), { recursive: true });
    await writeFile(join(root, 'deep/er/new.bin'), Buffer.alloc(2 * MiB, 1));
    await link(join(root, 'deep/er/new.bin'), join(root, 'again.bin'));
    await writeFile(join(home, 'cache.bin'), Buffer.alloc(1 * MiB, 1));
    const counted = await writtenSince([root, home], since);
    // 3 MiB of data, plus the blocks of two new directories.
    expect(counted).toBeGreaterThanOrEqual(3 * MiB);
    expect(counted).toBeLessThan(3 * MiB + 256 * 1024);
  });
});
