import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitRun {
  stdout: string;
  exitCode: number;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Person',
  GIT_AUTHOR_EMAIL: 'person@example.com',
  GIT_COMMITTER_NAME: 'Test Person',
  GIT_COMMITTER_EMAIL: 'person@example.com',
};

/** Runs git for the fake and the tests (not Fanout's hardened runner: this is GitHub's side). */
export function git(
  gitDir: string,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string>; allowExitCodes?: number[] } = {},
): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [`--git-dir=${gitDir}`, ...args],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: tmpdir(),
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          LANG: 'C',
          ...IDENTITY,
          ...options.env,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (exitCode !== 0 && !(options.allowExitCodes ?? []).includes(exitCode)) {
          reject(new Error(`git ${args.join(' ')} failed (exit ${exitCode}) in ${gitDir}: ${stderr}`));
          return;
        }
        resolve({ stdout, exitCode });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** The commit a ref points at, or null when it does not exist. */
export async function resolveRef(gitDir: string, ref: string): Promise<string | null> {
  const { stdout, exitCode } = await git(gitDir, ['rev-parse', '--verify', '-q', `${ref}^{commit}`], {
    allowExitCodes: [1, 128],
  });
  return exitCode === 0 ? stdout.trim() : null;
}

/** True when `ancestor` is an ancestor of (or equal to) `descendant`. */
export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  return (
    (await git(gitDir, ['merge-base', '--is-ancestor', ancestor, descendant], { allowExitCodes: [1] })).exitCode === 0
  );
}

/** Whether a commit object is present in the repository. */
export async function hasCommit(gitDir: string, sha: string): Promise<boolean> {
  return (await git(gitDir, ['cat-file', '-e', `${sha}^{commit}`], { allowExitCodes: [1, 128] })).exitCode === 0;
}

/**
 * Makes a commit of `files` on top of `parent` (null: a root commit) without touching any work
 * tree, and returns its sha; works in bare and normal repositories alike.
 */
export async function commitFiles(
  gitDir: string,
  parent: string | null,
  files: Record<string, string>,
  message = 'Change files',
): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'fake-github-index-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    if (parent) await git(gitDir, ['read-tree', parent], { env });
    for (const [path, content] of Object.entries(files)) {
      const blob = (await git(gitDir, ['hash-object', '-w', '--stdin'], { input: content })).stdout.trim();
      await git(gitDir, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
    }
    const tree = (await git(gitDir, ['write-tree'], { env })).stdout.trim();
    return (await git(gitDir, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message])).stdout.trim();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Moves a branch with a compare-and-swap (`expected` null: whatever it was). */
export async function setBranch(
  gitDir: string,
  branch: string,
  sha: string,
  expected: string | null = null,
): Promise<void> {
  await git(gitDir, ['update-ref', `refs/heads/${branch}`, sha, ...(expected ? [expected] : [])]);
}
