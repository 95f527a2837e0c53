import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from '../workspace/git-cli.js';

/** Why a checkout cannot go from one tree to another without losing someone's files. */
export type CheckoutBlocker =
  { kind: 'local-changes' } | { kind: 'in-the-way'; paths: string[] } | { kind: 'git-refused'; detail: string };

/** The worktree (the user's checkout or another) that has `branch` checked out, if any. */
export async function checkoutOf(repoDir: string, branch: string): Promise<string | null> {
  const { stdout } = await runGit(['worktree', 'list', '--porcelain', '-z'], { cwd: repoDir });
  let current: string | null = null;
  for (const field of stdout.split('\0')) {
    if (field.startsWith('worktree ')) current = field.slice('worktree '.length);
    if (field === `branch refs/heads/${branch}` && current) return current;
  }
  return null;
}

/**
 * What would stop `checkout` (index and files at `from`) from moving to `to`, or null when nothing.
 * git 2.39's `read-tree -u -m` (dry run or not) refuses to overwrite untracked files but silently
 * overwrites or deletes ignored ones, so paths in the way are found here first, ignored or not.
 */
export async function checkoutBlocker(checkout: string, from: string, to: string): Promise<CheckoutBlocker | null> {
  try {
    // Compared with `from`, not HEAD: HEAD follows the base ref, which may already have moved.
    if (!(await indexHolds(checkout, from))) return { kind: 'local-changes' };
    if (!(await filesMatchIndex(checkout))) {
      // A file touched but unchanged looks changed (and fails the update, "not uptodate") until
      // the index's stat data is refreshed; only then does a difference count.
      await runGit(['update-index', '-q', '--refresh'], { cwd: checkout, allowExitCodes: [1] });
      if (!(await filesMatchIndex(checkout))) return { kind: 'local-changes' };
    }
    const paths = await pathsInTheWay(checkout, from, to);
    if (paths.length > 0) return { kind: 'in-the-way', paths };
    // No dry run of git's own update: it checks everything before it writes anything, and a merge
    // whose update git refuses is swapped back (see completeMerge).
    return null;
  } catch (error) {
    return { kind: 'git-refused', detail: error instanceof Error ? error.message : String(error) };
  }
}

async function filesMatchIndex(checkout: string): Promise<boolean> {
  return (await runGit(['diff-files', '--quiet'], { cwd: checkout, allowExitCodes: [1] })).exitCode === 0;
}

/** Moves the checkout's index and files from `from` to `to` (git's two-tree merge: all or nothing). */
export async function updateCheckout(checkout: string, from: string, to: string): Promise<void> {
  await runGit(['read-tree', '-u', '-m', from, to], { cwd: checkout });
}

/** Whether the checkout's index holds the tree of `commit`. */
export async function indexHolds(checkout: string, commit: string): Promise<boolean> {
  const { exitCode } = await runGit(['diff-index', '--cached', '--quiet', commit, '--'], {
    cwd: checkout,
    allowExitCodes: [1],
  });
  return exitCode === 0;
}

/** Which of two commits the checkout's index holds the tree of; `to` wins when they are equal. */
export async function indexAt(checkout: string, from: string, to: string): Promise<'from' | 'to' | 'neither'> {
  for (const [commit, answer] of [
    [to, 'to'],
    [from, 'from'],
  ] as const) {
    if (await indexHolds(checkout, commit)) return answer;
  }
  return 'neither';
}

/**
 * Untracked or ignored files that going from `from` to `to` would overwrite or delete: files at
 * paths `to` adds, files where `to` needs a directory, and files inside a directory `to` turns
 * into a file. Assumes the index holds `from`, so anything at an added path is untracked.
 */
async function pathsInTheWay(checkout: string, from: string, to: string): Promise<string[]> {
  const { stdout } = await runGit(['diff-tree', '-r', '-z', '--no-renames', '--name-status', from, to], {
    cwd: checkout,
  });
  const fields = stdout.split('\0');
  const added: string[] = [];
  const deleted = new Set<string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const [status, path] = [fields[index], fields[index + 1] ?? ''];
    if (status === 'A') added.push(path);
    if (status === 'D') deleted.add(path);
  }
  const inTheWay = new Set<string>();
  const directories: string[] = [];
  const seen = new Set<string>();
  for (const path of added) {
    const parts = path.split('/');
    for (let depth = 1; depth < parts.length; depth += 1) {
      const prefix = parts.slice(0, depth).join('/');
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      // A tracked file that `to` turns into a directory is git's to remove; any other file is not.
      if ((await entryKind(join(checkout, prefix))) === 'file' && !deleted.has(prefix)) inTheWay.add(prefix);
    }
    const kind = await entryKind(join(checkout, path));
    if (kind === 'file') inTheWay.add(path);
    if (kind === 'directory') directories.push(path);
  }
  if (directories.length > 0) {
    // No exclude options: ignored files are listed too. Tracked files in there are git's to remove.
    const pathspecs = directories.map((directory) => `:(literal)${directory}/`);
    const { stdout: others } = await runGit(['ls-files', '--others', '-z', '--', ...pathspecs], { cwd: checkout });
    for (const path of others.split('\0').filter(Boolean)) inTheWay.add(path);
  }
  return [...inTheWay].sort();
}

/** A directory, anything else that exists (file, symlink, FIFO), or nothing. */
async function entryKind(path: string): Promise<'directory' | 'file' | 'missing'> {
  try {
    return (await lstat(path)).isDirectory() ? 'directory' : 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw error;
  }
}
