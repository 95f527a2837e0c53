import { globMatcher, isGlob } from './scope.js';
import {
  cargoPackageName,
  cargoWorkspace,
  goModulePath,
  goWorkUses,
  lernaPatterns,
  npmPackageName,
  npmWorkspacePatterns,
  pnpmWorkspacePatterns,
  pyprojectName,
  setupPyName,
} from './workspace-manifests.js';

export type PackageEcosystem = 'npm' | 'cargo' | 'go' | 'python';

/** One package of a repository that holds several (a workspace member, a Python project). */
export interface WorkspacePackage {
  /** Its directory, repository-relative, without a trailing `/`. */
  path: string;
  ecosystem: PackageEcosystem;
  /** The name its manifest gives, when that was read. */
  name?: string;
  /** Tracked files beneath the directory (nested packages included). */
  fileCount: number;
}

/** Reads a file of the repository at the commit being outlined; null when it is absent or unreadable. */
export type ManifestReader = (path: string) => string | null;

// Workspace manifests are looked for at the root and one directory down (`js/package.json`,
// `rust/Cargo.toml` in a polyglot repository); deeper ones would mean reading many files.
const WORKSPACE_MANIFEST_DEPTH = 1;
// Names cost one read each; past this many packages the outline shows paths only.
export const MAX_NAMED_PACKAGES = 200;
// Manifests in test data describe fixtures, not packages of the repository.
const FIXTURE_SEGMENTS = new Set(['node_modules', 'testdata', 'fixtures', '__fixtures__']);
const PYTHON_MANIFESTS = ['pyproject.toml', 'setup.py'] as const;

/**
 * The repository's packages, found from its file list and the text of a few manifests: npm, yarn
 * and pnpm workspaces (and lerna), Cargo workspace members, go.work `use` directories, and Python
 * projects (directories with pyproject.toml or setup.py). The root itself is never a package.
 * `read` is called only for files in `files`. Sorted by path; one entry per directory.
 */
export function detectWorkspacePackages(files: readonly string[], read: ManifestReader): WorkspacePackage[] {
  const present = new Set(files);
  const readIfPresent = (path: string) => (present.has(path) ? read(path) : null);
  const directoriesWith = manifestDirectories(files);
  const found = new Map<string, PackageEcosystem>();
  const add = (paths: Iterable<string>, ecosystem: PackageEcosystem) => {
    for (const path of [...paths].sort()) if (path !== '' && !found.has(path)) found.set(path, ecosystem);
  };

  for (const root of workspaceRoots(directoriesWith)) {
    const npm = [
      ...npmWorkspacePatterns(readIfPresent(join(root, 'package.json')) ?? ''),
      ...pnpmWorkspacePatterns(readIfPresent(join(root, 'pnpm-workspace.yaml')) ?? ''),
      ...lernaPatterns(readIfPresent(join(root, 'lerna.json')) ?? ''),
    ];
    add(matchMembers(root, npm, [], directoriesWith('package.json')), 'npm');
    const cargo = cargoWorkspace(readIfPresent(join(root, 'Cargo.toml')) ?? '');
    add(matchMembers(root, cargo.members, cargo.exclude, directoriesWith('Cargo.toml')), 'cargo');
    const uses = goWorkUses(readIfPresent(join(root, 'go.work')) ?? '');
    add(matchMembers(root, uses, [], directoriesWith('go.mod')), 'go');
  }
  add(
    PYTHON_MANIFESTS.flatMap((manifest) => [...directoriesWith(manifest)]).filter((path) => !isFixture(path)),
    'python',
  );

  const sorted = [...files].sort(compareCodeUnits);
  const paths = [...found.keys()].sort(compareCodeUnits);
  return paths.map((path, position) => {
    const ecosystem = found.get(path)!;
    const name = position < MAX_NAMED_PACKAGES ? packageName(path, ecosystem, readIfPresent) : undefined;
    return { path, ecosystem, ...(name ? { name } : {}), fileCount: countUnder(sorted, path) };
  });
}

/**
 * detectWorkspacePackages with an asynchronous reader (the caller reads from git): reads what
 * the detection asks for, a round at a time (workspace manifests, then members' manifests). A
 * read that throws counts as an absent file, since an outline must not fail a run.
 */
export async function readWorkspacePackages(
  files: readonly string[],
  read: (path: string) => Promise<string | null>,
): Promise<WorkspacePackage[]> {
  const cache = new Map<string, string | null>();
  // Two rounds suffice (manifests name members, members name themselves); a third is a guard.
  for (let round = 0; round < 3; round += 1) {
    const missing = new Set<string>();
    const packages = detectWorkspacePackages(files, (path) => {
      if (cache.has(path)) return cache.get(path) ?? null;
      missing.add(path);
      return null;
    });
    if (missing.size === 0) return packages;
    await readAll([...missing], read, cache);
  }
  return detectWorkspacePackages(files, (path) => cache.get(path) ?? null);
}

const READ_CONCURRENCY = 8;

async function readAll(
  paths: readonly string[],
  read: (path: string) => Promise<string | null>,
  cache: Map<string, string | null>,
): Promise<void> {
  for (let start = 0; start < paths.length; start += READ_CONCURRENCY) {
    const batch = paths.slice(start, start + READ_CONCURRENCY);
    const texts = await Promise.all(batch.map((path) => read(path).catch(() => null)));
    batch.forEach((path, index) => cache.set(path, texts[index] ?? null));
  }
}

/** For each manifest file name, the set of directories holding one ('' is the root). */
function manifestDirectories(files: readonly string[]): (manifest: string) => ReadonlySet<string> {
  const byName = new Map<string, Set<string>>();
  for (const file of files) {
    const slash = file.lastIndexOf('/');
    const name = file.slice(slash + 1);
    const directories = byName.get(name) ?? new Set<string>();
    directories.add(slash === -1 ? '' : file.slice(0, slash));
    byName.set(name, directories);
  }
  const none: ReadonlySet<string> = new Set();
  return (manifest) => byName.get(manifest) ?? none;
}

/** Directories that may hold a workspace manifest: the root and those one level down that have one. */
function workspaceRoots(directoriesWith: (manifest: string) => ReadonlySet<string>): string[] {
  const roots = new Set<string>(['']);
  for (const manifest of ['package.json', 'pnpm-workspace.yaml', 'lerna.json', 'Cargo.toml', 'go.work']) {
    for (const directory of directoriesWith(manifest)) {
      if (directory !== '' && directory.split('/').length <= WORKSPACE_MANIFEST_DEPTH && !isFixture(directory))
        roots.add(directory);
    }
  }
  return [...roots].sort();
}

/** The candidate directories (those holding the member manifest) that the patterns name, minus exclusions. */
function matchMembers(
  root: string,
  patterns: readonly string[],
  exclude: readonly string[],
  candidates: ReadonlySet<string>,
): string[] {
  const include = patterns.filter((pattern) => !pattern.startsWith('!')).map((pattern) => memberMatcher(root, pattern));
  if (include.length === 0) return [];
  const excluded = [
    ...exclude,
    ...patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1)),
  ].map((pattern) => memberMatcher(root, pattern));
  return [...candidates].filter(
    (directory) => include.some((test) => test(directory)) && !excluded.some((test) => test(directory)),
  );
}

function memberMatcher(root: string, pattern: string): (directory: string) => boolean {
  const relative = pattern
    .trim()
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  const full = relative === '' || relative === '.' ? root : join(root, relative);
  if (isGlob(full)) return globMatcher(full);
  return (directory) => directory === full;
}

function packageName(path: string, ecosystem: PackageEcosystem, read: ManifestReader): string | undefined {
  switch (ecosystem) {
    case 'npm':
      return npmPackageName(read(`${path}/package.json`) ?? '');
    case 'cargo':
      return cargoPackageName(read(`${path}/Cargo.toml`) ?? '');
    case 'go':
      return goModulePath(read(`${path}/go.mod`) ?? '');
    case 'python': {
      const pyproject = read(`${path}/pyproject.toml`);
      if (pyproject !== null) return pyprojectName(pyproject);
      return setupPyName(read(`${path}/setup.py`) ?? '');
    }
  }
}

/** Files under `directory` in a list sorted by code units (two binary searches). */
function countUnder(sorted: readonly string[], directory: string): number {
  const prefix = `${directory}/`;
  // '0' follows '/' in code units, so [prefix, directory + '0') is exactly the paths under it.
  return lowerBound(sorted, `${directory}0`) - lowerBound(sorted, prefix);
}

function lowerBound(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareCodeUnits(sorted[middle]!, value) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Orders strings by UTF-16 code units, as git and `Array.prototype.sort` do (not by locale). */
export function compareCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function isFixture(directory: string): boolean {
  return directory.split('/').some((segment) => FIXTURE_SEGMENTS.has(segment));
}

function join(root: string, path: string): string {
  return root === '' ? path : `${root}/${path}`;
}
