import { lstat, readFile, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { protectedPaths } from '../../domain/protected-paths.js';
import type { CommitOutcome, CommitRequest, Worktree } from '../../ports/workspace.js';
import { runGit, type GitOptions } from './git-cli.js';

/** Larger files are refused at commit. */
export const MAX_COMMITTED_FILE_BYTES = 100 * 1024 * 1024;

const MAX_LINK_HOPS = 40;

/** Where Fanout's git runs for a worktree: its own directories, from Fanout's records. */
export function worktreeGit(worktree: Worktree): GitOptions {
  return { cwd: worktree.path, gitDir: worktree.gitDir, commonDir: worktree.commonDir, workTree: worktree.path };
}

/** What `git status` lists as changed: modified, staged, deleted or untracked (ignored files excluded). */
export async function statusPaths(worktree: Worktree): Promise<string[]> {
  const { stdout } = await runGit(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--ignore-submodules=all'],
    worktreeGit(worktree),
  );
  return stdout
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/** The changed paths with a signature (mode, size, mtime) that moves when the file does; nothing is staged. */
export async function worktreeChanges(worktree: Worktree): Promise<Map<string, string>> {
  const signatures = new Map<string, string>();
  for (const path of await statusPaths(worktree)) {
    const info = await lstat(join(worktree.path, path), { bigint: true }).catch(() => null);
    signatures.set(path, info ? `${info.mode}:${info.size}:${info.mtimeNs}` : 'absent');
  }
  return signatures;
}

/** What a commit needs to know of the worktree's base commit: its paths, and which are gitlinks (submodules). */
export interface BaseTree {
  paths: ReadonlySet<string>;
  gitlinks: string[];
}

/** The paths and gitlinks of the worktree's base commit. */
export async function baseTreeOf(worktree: Worktree): Promise<BaseTree> {
  const { stdout } = await runGit(['ls-tree', '-r', '-z', '--full-tree', worktree.baseCommit], worktreeGit(worktree));
  const entries = stdout.split('\0').filter(Boolean);
  return {
    paths: new Set(entries.map((entry) => entry.slice(entry.indexOf('\t') + 1))),
    gitlinks: entries
      .filter((entry) => entry.startsWith('160000 commit '))
      .map((entry) => entry.slice(entry.indexOf('\t') + 1)),
  };
}

/**
 * Stages the worktree (only `paths` when given: what status found, plus the base's gitlinks, so a
 * moved submodule is still seen) and lists what differs from the base, with each path's new mode.
 */
export async function stagedChanges(
  worktree: Worktree,
  only?: { paths: readonly string[]; gitlinks: () => Promise<string[]> },
): Promise<Array<{ path: string; mode: string }>> {
  const location = worktreeGit(worktree);
  if (only === undefined) {
    await runGit(['add', '--all', '--', '.'], location);
  } else {
    // Walking a 10,000-file tree again to stage three files is costly; an agent's new nested
    // repository shows in status anyway.
    const listed = [...new Set([...only.paths, ...(await only.gitlinks())])];
    if (listed.length > 0) {
      await runGit(['add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], {
        ...location,
        env: { GIT_LITERAL_PATHSPECS: '1' },
        input: listed.join('\0'),
      });
    }
  }
  // Plumbing against the index: object ids only, no working file read again.
  const raw = await runGit(
    ['diff-index', '--cached', '--raw', '--no-renames', '--ignore-submodules=none', '-z', worktree.baseCommit, '--'],
    location,
  );
  // `:<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0`
  const fields = raw.stdout.split('\0');
  const changes: Array<{ path: string; mode: string }> = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    changes.push({ path: fields[index + 1]!, mode: fields[index]!.split(' ')[1] ?? '' });
  }
  return changes;
}

/**
 * Commits the worktree's changes on its branch, on top of its base commit, when every one is
 * allowed: not too large, inside the scope, no nested repository, no link leading out.
 */
export async function commitWorktree(
  worktree: Worktree,
  request: CommitRequest,
  baseTree: () => Promise<BaseTree>,
): Promise<CommitOutcome> {
  const gitlinks = async () => (await baseTree()).gitlinks;
  // Before `git add` reads them: a sparse 1 TB file costs nothing to make and hours to hash.
  const known = request.knownPaths;
  const candidates = known ? await presentPaths(worktree, known, baseTree) : await statusPaths(worktree);
  const large = await oversized(worktree, candidates);
  if (large.length > 0) return { kind: 'too-large', paths: large, limitBytes: MAX_COMMITTED_FILE_BYTES };
  let changes: Awaited<ReturnType<typeof stagedChanges>>;
  try {
    changes = await stagedChanges(worktree, { paths: candidates, gitlinks });
  } catch (error) {
    // A known path git will not stage as named (an ignored one, say): the whole worktree is looked
    // at instead, checked the same way.
    if (!known) throw error;
    const { knownPaths: _known, ...walked } = request;
    return commitWorktree(worktree, walked, baseTree);
  }
  const files = changes.map((change) => change.path);
  if (files.length === 0) return { kind: 'no-changes' };
  // Protected paths are refused here too, whatever the caller allows (the defaults at least).
  const guarded = request.protectedPaths ?? protectedPaths();
  const outside = files.filter((file) => !request.isAllowed(file) || guarded.covers(file));
  if (outside.length > 0) return { kind: 'out-of-scope', paths: outside, files };
  // A nested repository (gitlink, mode 160000) brings config and drivers of its own into every later checkout.
  const nested = changes.filter((change) => change.mode === '160000').map((change) => change.path);
  if (nested.length > 0) return { kind: 'nested-repositories', paths: nested, files };
  const links = await escapingLinks(worktree.path, files);
  if (links.length > 0) return { kind: 'escaping-links', paths: links, files };
  const location = worktreeGit(worktree);
  const { stdout: tree } = await runGit(['write-tree'], location);
  // Plumbing, not `git commit`: no hooks, and the commit sits on the base even if the agent
  // moved HEAD with its own commands.
  const { stdout: commit } = await runGit(['commit-tree', tree.trim(), '-p', worktree.baseCommit, '-F', '-'], {
    ...location,
    env: identityEnv(request.author),
    input: request.message,
  });
  await runGit(['update-ref', `refs/heads/${worktree.branch}`, commit.trim()], location);
  // Re-attach HEAD in case the agent detached it (unless it is where it belongs); the index
  // already holds this tree.
  const head = await readFile(join(worktree.gitDir, 'HEAD'), 'utf8').catch(() => '');
  if (head.trim() !== `ref: refs/heads/${worktree.branch}`) {
    await runGit(['symbolic-ref', 'HEAD', `refs/heads/${worktree.branch}`], location);
  }
  return { kind: 'committed', commit: commit.trim(), files };
}

/**
 * The known paths git can stage: those in the worktree, and those of the base that are gone (a
 * deletion). A file made and removed again is neither, and `git add` would refuse its name.
 */
async function presentPaths(
  worktree: Worktree,
  known: readonly string[],
  baseTree: () => Promise<BaseTree>,
): Promise<string[]> {
  const present: string[] = [];
  for (const path of new Set(known)) {
    if ((await lstat(join(worktree.path, path)).catch(() => null)) || (await baseTree()).paths.has(path))
      present.push(path);
  }
  return present;
}

/** Author and committer variables for one identity. */
export function identityEnv(author: { name: string; email: string }): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

/** New or changed files larger than a pull request may carry (GitHub refuses files over 100 MB too). */
async function oversized(worktree: Worktree, paths: readonly string[]): Promise<string[]> {
  const large: string[] = [];
  for (const path of paths) {
    const info = await lstat(join(worktree.path, path)).catch(() => null);
    if (info?.isFile() && info.size > MAX_COMMITTED_FILE_BYTES) large.push(path);
  }
  return large;
}

/** Changed paths that are symbolic links leading out of the repository or into `.git`, through any chain of links. */
async function escapingLinks(root: string, files: readonly string[]): Promise<string[]> {
  const escaping: string[] = [];
  for (const file of files) {
    const info = await lstat(join(root, file)).catch(() => null);
    if (info?.isSymbolicLink() && !(await resolvesInside(root, file))) escaping.push(file);
  }
  return escaping;
}

/**
 * Follows `path` component by component inside `root`, through every link (existing or not at the
 * end), as a checkout of this tree anywhere would: false when it leaves the root or enters `.git`.
 */
async function resolvesInside(root: string, path: string): Promise<boolean> {
  let pending = path.split('/');
  const current: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return false;
      current.pop();
      continue;
    }
    current.push(part);
    if (current[0] === '.git') return false;
    const here = join(root, ...current);
    const info = await lstat(here).catch(() => null);
    if (!info?.isSymbolicLink()) continue;
    hops += 1;
    const target = await readlink(here);
    if (hops > MAX_LINK_HOPS || posix.isAbsolute(target)) return false;
    current.pop();
    pending = [...target.split('/'), ...pending];
  }
  return true;
}
