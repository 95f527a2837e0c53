import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { TreeEntry } from './preparation-git.js';

// Lockfiles fix what an install produces; with one present, manifests (package.json) need not be
// part of the key: an agent that edits a script does not force a new install.
const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'bun.lock',
  'bun.lockb',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'Cargo.lock',
  'go.sum',
  'Gemfile.lock',
  'composer.lock',
]);
// Package manager configuration changes what gets installed, with or without a lockfile.
const CONFIGS = new Set([
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  'pnpm-workspace.yaml',
  '.pnpmfile.cjs',
  'pnpmfile.js',
  '.nvmrc',
  '.node-version',
]);
const CONFIG_DIRS = ['.yarn/releases/', '.yarn/plugins/', '.yarn/patches/', 'patches/'];
// What a custom `setup:` may install from besides lockfiles (Python, Go, Ruby...).
const MANIFESTS = new Set(['pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile', 'go.mod', 'Gemfile']);
const REQUIREMENTS = /^(requirements|constraints)[\w.-]*\.(txt|in)$/;
const SUBMODULE = '160000';

/**
 * The tracked files whose content decides what setup produces: lockfiles anywhere, package
 * manager configuration, dependency manifests of other languages, submodule commits, and the
 * package.json files when no lockfile pins the result.
 */
export function installInputs(entries: readonly TreeEntry[]): TreeEntry[] {
  const name = (entry: TreeEntry) => posix.basename(entry.path);
  const hasLockfile = entries.some((entry) => LOCKFILES.has(name(entry)));
  return entries
    .filter(
      (entry) =>
        entry.mode === SUBMODULE ||
        LOCKFILES.has(name(entry)) ||
        CONFIGS.has(name(entry)) ||
        MANIFESTS.has(name(entry)) ||
        REQUIREMENTS.test(name(entry)) ||
        CONFIG_DIRS.some((dir) => entry.path.startsWith(dir)) ||
        (!hasLockfile && name(entry) === 'package.json'),
    )
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Everything a prepared environment depends on; equal keys mean one environment serves both. */
export interface CacheKeyParts {
  /** The commands setup runs (detected or configured), as run. */
  commands: ReadonlyArray<readonly string[]>;
  manager: string;
  inputs: readonly TreeEntry[];
  /** Files copied from the user's checkout before setup, with their content hashes. */
  copied: ReadonlyArray<{ path: string; sha256: string }>;
  /** The runtime the install targets (native modules are built for one Node ABI). */
  runtime: string;
}

/** A stable hex key for the parts (object ids are content hashes, so no file is read twice). */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    'fanout-environment-1',
    parts.commands,
    parts.manager,
    parts.inputs.map((entry) => [entry.path, entry.mode, entry.object]),
    parts.copied.map((file) => [file.path, file.sha256]),
    parts.runtime,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 40);
}
