/** The package managers Fanout can install with when `setup:` is absent. */
export type PackageManager = 'npm' | 'pnpm' | 'yarn-classic' | 'yarn-berry';

/** What the repository's root says about installing its dependencies. */
export type InstallDetection =
  | { kind: 'install'; manager: PackageManager; argv: readonly string[]; lockfile: string | null }
  /** Nothing to install (no package.json), with the reason. */
  | { kind: 'none'; reason: string }
  /** An install Fanout cannot run by itself; preparation fails with this reason. */
  | { kind: 'unsupported'; reason: string };

const LOCKFILES: ReadonlyArray<readonly [string, PackageManager]> = [
  // npm prefers the shrinkwrap when both exist.
  ['npm-shrinkwrap.json', 'npm'],
  ['package-lock.json', 'npm'],
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn-classic'],
];

/**
 * Detects the install from the root's file names and `package.json` text: the `packageManager`
 * field wins (corepack enforces it), then lockfiles. Installs are frozen: the lockfile is read,
 * never written, so the worktree stays clean. pnpm and yarn run through corepack, which provides
 * the version `packageManager` pins. Lifecycle scripts run as they do in the user's own install
 * (native modules need them); they run inside the sandbox.
 */
export function detectInstall(rootFiles: readonly string[], packageJson: string | null): InstallDetection {
  if (packageJson === null) return { kind: 'none', reason: 'no package.json at the repository root' };
  const files = new Set(rootFiles);
  const declared = declaredManager(packageJson);
  if (declared.kind === 'unsupported') return declared;
  const lockfile = declared.kind === 'declared' ? lockfileFor(declared.manager, files) : firstLockfile(files);
  const manager = declared.kind === 'declared' ? declared.manager : lockfile ? managerOf(lockfile, files) : 'npm';
  const argv = installCommand(manager, lockfile !== null);
  if (!argv)
    return {
      kind: 'unsupported',
      reason: `packageManager is yarn 2 or later but yarn.lock is not committed; commit it, or say how to install in .github/fanout.yml \`setup:\``,
    };
  return { kind: 'install', manager, argv, lockfile };
}

type Declared =
  | { kind: 'declared'; manager: PackageManager }
  | { kind: 'absent' }
  | Extract<InstallDetection, { kind: 'unsupported' }>;

/** The `packageManager` field (`name@version[+hash]`). */
function declaredManager(packageJson: string): Declared {
  let field: unknown;
  try {
    field = (JSON.parse(packageJson) as { packageManager?: unknown } | null)?.packageManager;
  } catch {
    // npm itself reports a broken package.json better than Fanout could.
    return { kind: 'absent' };
  }
  if (typeof field !== 'string') return { kind: 'absent' };
  const match = /^(npm|pnpm|yarn|bun)@(\d+)/.exec(field.trim());
  if (!match)
    return {
      kind: 'unsupported',
      reason: `packageManager "${field}" is not one Fanout installs with (npm, pnpm, yarn); say how to install in .github/fanout.yml \`setup:\``,
    };
  const [, name, major] = match;
  if (name === 'bun')
    return {
      kind: 'unsupported',
      reason:
        'packageManager is bun, which Fanout does not install with; say how to install in .github/fanout.yml `setup:`',
    };
  if (name === 'yarn') return { kind: 'declared', manager: Number(major) >= 2 ? 'yarn-berry' : 'yarn-classic' };
  return { kind: 'declared', manager: name as 'npm' | 'pnpm' };
}

function firstLockfile(files: ReadonlySet<string>): string | null {
  return LOCKFILES.find(([name]) => files.has(name))?.[0] ?? null;
}

function lockfileFor(manager: PackageManager, files: ReadonlySet<string>): string | null {
  const family = manager === 'yarn-berry' ? 'yarn-classic' : manager;
  return LOCKFILES.find(([name, owner]) => owner === family && files.has(name))?.[0] ?? null;
}

/** A yarn.lock with a committed `.yarnrc.yml` belongs to yarn 2+ (classic yarn does not read that file). */
function managerOf(lockfile: string, files: ReadonlySet<string>): PackageManager {
  const manager = LOCKFILES.find(([name]) => name === lockfile)![1];
  return manager === 'yarn-classic' && files.has('.yarnrc.yml') ? 'yarn-berry' : manager;
}

/** The frozen install; without a lockfile, an install that neither reads nor writes one. Null when there is none. */
function installCommand(manager: PackageManager, hasLockfile: boolean): readonly string[] | null {
  switch (manager) {
    case 'npm':
      // Audit and funding requests are network calls the install does not need.
      return hasLockfile
        ? ['npm', 'ci', '--no-audit', '--no-fund']
        : ['npm', 'install', '--no-package-lock', '--no-audit', '--no-fund'];
    case 'pnpm':
      return ['corepack', 'pnpm', 'install', hasLockfile ? '--frozen-lockfile' : '--no-lockfile'];
    case 'yarn-classic':
      return ['corepack', 'yarn', 'install', hasLockfile ? '--frozen-lockfile' : '--no-lockfile', '--non-interactive'];
    case 'yarn-berry':
      return hasLockfile ? ['corepack', 'yarn', 'install', '--immutable'] : null;
  }
}
