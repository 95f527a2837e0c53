import { mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A child started with `--import tsx` keeps what it compiled under `$TMPDIR/tsx-<euid>`, so one
 * given a test's own TMPDIR would compile all of Fanout again (about a second of CPU per process).
 * Links the shared cache into `dir` and returns `dir`, to be used as the child's TMPDIR.
 */
export function withTsxCache(dir: string): string {
  const name = `tsx-${process.geteuid?.() ?? userInfo().username}`;
  const shared = join(tmpdir(), name);
  mkdirSync(shared, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync(shared, join(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return dir;
}
