import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeyedQueue, withFileLock } from '../../file-lock.js';
import { runGit } from '../../workspace/git-cli.js';

/**
 * Makes `dir` a git repository of its own if it is not one yet: Fanout's clone of a GitHub
 * repository starts empty and gets its objects from `fetchBase` (fetched per run, never cloned
 * again). No remote is configured in it: fetch and push name the URL, so nothing about the remote
 * lives in `.git/config`.
 */
export async function ensureLocalClone(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Agent jobs of one repository open it at once (on one worker, or several sharing a disk).
  await CREATING.run(resolve(dir), () =>
    withFileLock(`${resolve(dir)}.lock`, async () => {
      const probe = await runGit(['rev-parse', '--git-dir'], { cwd: dir, allowExitCodes: [128] });
      const gitDir = probe.stdout.trim();
      // Inside some other repository (a state directory in a checkout) does not count.
      if (probe.exitCode === 0 && (gitDir === '.git' || resolve(dir, gitDir) === resolve(dir))) return;
      await runGit(['init', '--quiet', dir], { cwd: dir });
    }),
  );
}

// Within the process, waiters queue in memory rather than contend on the lock file.
const CREATING = new KeyedQueue();
