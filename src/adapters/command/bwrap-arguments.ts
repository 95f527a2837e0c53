import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** What one sandboxed command may see, decided by the runner; turned into bwrap arguments by `bwrapArguments`. */
export interface SandboxLayout {
  /** System directories mounted read-only (a symlink such as `/bin -> usr/bin` stays a symlink). */
  systemPaths: readonly string[];
  /** What of /etc is shown, read-only (`etcEntries`): /etc itself is never mounted whole. */
  etcPaths: readonly string[];
  /** Tool installations outside the system directories (nvm, pyenv...), read-only. */
  toolPaths: readonly string[];
  /** Host paths hidden even where a mounted directory contains them (credential files, Fanout's state). */
  hiddenPaths: readonly string[];
  /** The command's working directory (the worktree): writable. */
  cwd: string;
  /** The command's private HOME: writable. */
  home?: string;
  /**
   * The worktree's git directories, both read-only: `commonDir` with `configCopy` as its config.
   * Fanout's own git trusts nothing an agent could have written there.
   */
  git?: { gitDir: string; commonDir: string; configCopy: string; packedRefsCopy?: string | null };
  network: boolean;
  /** bubblewrap 0.8+ can forbid user namespaces inside the sandbox. */
  canDisableUserns: boolean;
}

/**
 * bubblewrap arguments for a layout. Nothing of the host is visible but what is listed: no home,
 * no checkout (only its git directory, read-only, with a sanitized config), no host processes, no
 * network unless allowed, and no capabilities even when Fanout runs as root. Order matters:
 * bwrap applies mounts in sequence, so a bind inside a hidden or tmpfs path comes after it.
 */
export function bwrapArguments(layout: SandboxLayout): string[] {
  const args = [
    '--unshare-user',
    ...(layout.canDisableUserns ? ['--disable-userns'] : []),
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(layout.network ? [] : ['--unshare-net']),
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session',
  ];
  for (const path of layout.systemPaths) args.push(...systemMount(path));
  for (const path of layout.etcPaths) args.push(...etcMount(path, layout.systemPaths));
  // A size on the private /tmp: it is RAM, and agents run side by side.
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(TMP_BYTES),
    '--tmpfs',
    '/tmp',
    '--size',
    String(TMP_BYTES),
    '--tmpfs',
    '/var/tmp',
  );
  for (const path of layout.toolPaths) args.push('--ro-bind', path, path);
  if (layout.git) args.push('--ro-bind', layout.git.commonDir, layout.git.commonDir);
  // Only what a mount exposes needs hiding; anything else is simply not there.
  const exposed = [
    ...layout.systemPaths,
    ...layout.etcPaths,
    ...layout.toolPaths,
    ...(layout.git ? [layout.git.commonDir] : []),
  ];
  for (const path of layout.hiddenPaths)
    if (exposed.some((root) => isInside(path, root))) args.push(...hideArguments(path));
  if (layout.git) {
    args.push('--ro-bind', layout.git.configCopy, `${layout.git.commonDir}/config`);
    if (layout.git.packedRefsCopy)
      args.push('--ro-bind', layout.git.packedRefsCopy, `${layout.git.commonDir}/packed-refs`);
    // Other repositories' git dirs and config (submodules), reflogs and stashes (which keep
    // untracked files such as .env) are not the worktree's business.
    for (const private_ of ['modules', 'logs']) args.push(...hideArguments(`${layout.git.commonDir}/${private_}`));
    args.push(...hideArguments(`${layout.git.commonDir}/refs/stash`));
    if (!isInside(layout.git.gitDir, layout.git.commonDir))
      args.push('--ro-bind', layout.git.gitDir, layout.git.gitDir);
  }
  args.push('--bind', layout.cwd, layout.cwd);
  if (layout.home) args.push('--bind', layout.home, layout.home);
  args.push('--setenv', 'TMPDIR', '/tmp', '--chdir', layout.cwd);
  return args;
}

const TMP_BYTES = 2 * 1024 * 1024 * 1024;

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}

function systemMount(path: string): string[] {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return [];
  if (info.isSymbolicLink()) return ['--symlink', readlinkSync(path), path];
  return ['--ro-bind', path, path];
}

/**
 * An /etc entry: a link into the mounted system directories or /proc stays a link (/etc/localtime
 * names its zone); any other (resolv.conf into /run, NixOS's links into /etc/static) shows its content.
 */
function etcMount(path: string, systemPaths: readonly string[]): string[] {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return [];
  if (info.isSymbolicLink()) {
    if (!statSync(path, { throwIfNoEntry: false })) return [];
    const target = readlinkSync(path);
    const resolved = resolve(dirname(path), target);
    if ([...systemPaths, '/proc'].some((root) => isInside(resolved, root))) return ['--symlink', target, path];
  }
  return ['--ro-bind', path, path];
}

/** Directories become empty tmpfs, files become /dev/null; paths that do not exist need no hiding. */
function hideArguments(path: string): string[] {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return [];
  return info.isDirectory() ? ['--tmpfs', path] : ['--ro-bind', '/dev/null', path];
}
