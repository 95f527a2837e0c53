import picomatch from 'picomatch';
import { isGlob, parseScopeEntry } from './scope.js';

/**
 * Paths no agent may write, whatever its write scope says (even `**`). Agents must never change CI
 * (a workflow, or a local action a workflow runs, has the repository's secrets and can approve or
 * merge), who must review what (CODEOWNERS, in any of the three places GitHub reads it), what
 * Dependabot may open, or Fanout's own configuration (validation commands, approval mode,
 * budgets): any of these would let a subtask rewrite the rules it is checked against.
 * `.github/dependabot.yaml` is listed too: GitHub reads either spelling.
 */
export const DEFAULT_PROTECTED_PATHS: readonly string[] = [
  '.github/workflows/**',
  '.github/actions/**',
  '.github/CODEOWNERS',
  'CODEOWNERS',
  'docs/CODEOWNERS',
  '.github/dependabot.yml',
  '.github/dependabot.yaml',
  '.github/fanout.yml',
];

/** The protected paths of one repository: the defaults plus its `protectedPaths:` (never fewer). */
export interface ProtectedPaths {
  /** Every protected entry, defaults first, for messages to the model and to people. */
  readonly entries: readonly string[];
  /** True when an agent may never write this repository-relative path. */
  covers(relativePath: string): boolean;
  /** True when a normalized scope entry names only protected paths, so it grants an agent nothing. */
  coversAll(scopeEntry: string): boolean;
}

// Case-insensitive: on a case-insensitive filesystem `.GitHub/Workflows/x.yml` is the same file.
const MATCH_OPTIONS = { dot: true, nocase: true } as const;

/**
 * The protected paths: DEFAULT_PROTECTED_PATHS plus `configured` (`protectedPaths:` in
 * .github/fanout.yml; absent in records written before it existed). An entry is a glob, a
 * directory (`infra/`), or a path; a plain path protects a file or a directory of that name.
 */
export function protectedPaths(configured: readonly string[] | undefined = []): ProtectedPaths {
  const entries = [...new Set([...DEFAULT_PROTECTED_PATHS, ...configured])];
  const tests = entries.map(entryTest);
  // Directories every path under which is protected: what a scope entry must fall inside to grant nothing.
  const directories = entries.map(protectedDirectory).filter((directory) => directory !== null);
  const covers = (relativePath: string) => {
    const path = normalizePath(relativePath);
    return tests.some((test) => test(path));
  };
  const under = (path: string) =>
    directories.some((directory) => path === directory || path.startsWith(`${directory}/`));
  return {
    entries,
    covers,
    coversAll(scopeEntry) {
      const entry = parseScopeEntry(scopeEntry);
      if (entry.kind === 'file') return covers(entry.path);
      const base = normalizePath(entry.kind === 'dir' ? entry.path : entry.base);
      return base !== '' && under(base);
    },
  };
}

function entryTest(entry: string): (path: string) => boolean {
  if (isGlob(entry)) {
    const match = picomatch(entry, MATCH_OPTIONS);
    return (path) => match(path);
  }
  const literal = normalizePath(entry);
  return (path) => path === literal || path.startsWith(`${literal}/`);
}

/** The directory an entry protects whole (`x/**`, `x/`, or a plain path `x`), lower case; null for a narrower glob. */
function protectedDirectory(entry: string): string | null {
  if (!isGlob(entry)) return normalizePath(entry) || null;
  const { base, glob } = picomatch.scan(entry);
  return glob === '**' && base !== '' ? normalizePath(base) : null;
}

/** Forward slashes, no empty or `.` segments, no trailing slash, lower case. */
function normalizePath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/')
    .toLowerCase();
}
