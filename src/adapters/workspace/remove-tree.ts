import { rm } from 'node:fs/promises';
import { execa } from 'execa';
import { systemProgram } from '../system-programs.js';

/**
 * Deletes a directory tree without following links out of it. Node's `rm` fails on very deep trees
 * (ENAMETOOLONG) an agent can make, so `rm -rf --one-file-system` finishes the job. False when it stays.
 */
export async function removeTree(path: string): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: true });
    return true;
  } catch {
    const result = await execa(systemProgram('rm'), ['-rf', '--one-file-system', '--', path], {
      reject: false,
      stdin: 'ignore',
      timeout: 10 * 60_000,
    });
    return result.exitCode === 0;
  }
}
