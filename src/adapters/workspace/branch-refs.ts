import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from './git-cli.js';

const SHA = /^[0-9a-f]{40}$/;
// Branch names git itself accepts that are also safe as a path under refs/heads.
const SAFE_BRANCH = /^(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]+$/;

/**
 * The commit a branch points at, read from the repository's ref files (a loose ref, else
 * packed-refs) instead of spawning git: a merge reads its branches a dozen times. Git replaces
 * both files by rename, so a read sees a whole value. Anything unusual (a symbolic ref, a
 * repository whose `.git` is a file, another ref storage) falls back to `git rev-parse`.
 */
export async function branchCommit(repoDir: string, branch: string): Promise<string> {
  const fast = SAFE_BRANCH.test(branch) ? await readBranchFiles(join(repoDir, '.git'), branch) : null;
  if (fast) return fast;
  return (await runGit(['rev-parse', '--verify', `refs/heads/${branch}^{commit}`], { cwd: repoDir })).stdout.trim();
}

async function readBranchFiles(gitDir: string, branch: string): Promise<string | null> {
  if (!(await stat(gitDir).catch(() => null))?.isDirectory()) return null;
  const loose = (await readFile(join(gitDir, 'refs', 'heads', branch), 'utf8').catch(() => null))?.trim();
  if (loose !== undefined) return SHA.test(loose) ? loose : null;
  const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(() => null);
  if (packed === null) return null;
  const wanted = ` refs/heads/${branch}`;
  const line = packed
    .split('\n')
    .find(
      (candidate) =>
        candidate.endsWith(wanted) && SHA.test(candidate.slice(0, 40)) && candidate.length === 40 + wanted.length,
    );
  return line ? line.slice(0, 40) : null;
}
