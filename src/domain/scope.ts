import picomatch from 'picomatch';
import type { ProtectedPaths } from './protected-paths.js';

/**
 * A write- or read-scope entry after normalization. The planner's validator turns every raw entry
 * into one of these, and the agent's write guard parses the same normalized strings, so the
 * overlap check and the enforcement can never disagree about what a scope covers.
 */
export type ScopeEntry =
  { kind: 'file'; path: string } | { kind: 'dir'; path: string } | { kind: 'glob'; pattern: string; base: string };

// `dot: true` so that `src/**` also covers `src/.env`: a scope is about files, hidden or not.
const MATCH_OPTIONS = { dot: true } as const;

/** True when the string uses glob syntax (`*`, `?`, `[...]`, `{a,b}`, extglobs). */
export function isGlob(path: string): boolean {
  return picomatch.scan(path).isGlob;
}

/** Why a raw scope entry is unacceptable, or null when it is fine. */
export function scopeEntryProblem(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === '') return 'is empty';
  if (trimmed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(trimmed) || trimmed.startsWith('~')) {
    return 'is absolute; scopes are paths relative to the repository root';
  }
  const segments = stripDotSlash(trimmed).split('/');
  if (segments.includes('..')) return "escapes the repository with '..'";
  if (segments.includes('.git')) return 'touches .git/, which agents may never write';
  return null;
}

/**
 * Normalizes a valid raw entry: strips `./`, turns `.` into `**`, and marks directories with a
 * trailing `/` (known directories from the repository file list, or entries that end in `/`).
 */
export function normalizeScopeEntry(raw: string, isDirectory: (path: string) => boolean): string {
  const trimmed = stripDotSlash(raw.trim());
  if (trimmed === '' || trimmed === '.') return '**';
  if (isGlob(trimmed)) return trimmed;
  const withoutSlash = trimmed.replace(/\/+$/, '');
  if (trimmed.endsWith('/') || isDirectory(withoutSlash)) return `${withoutSlash}/`;
  return trimmed;
}

/** Parses a normalized entry (see normalizeScopeEntry) without looking at the repository. */
export function parseScopeEntry(entry: string): ScopeEntry {
  if (isGlob(entry)) {
    const base = picomatch.scan(entry).base;
    return { kind: 'glob', pattern: entry, base };
  }
  if (entry.endsWith('/')) return { kind: 'dir', path: entry.replace(/\/+$/, '') };
  return { kind: 'file', path: entry };
}

/** Builds a predicate telling whether a repository-relative path falls inside any of the entries. */
export function createScopeMatcher(entries: readonly string[]): (path: string) => boolean {
  const tests = entries.map((entry) => entryMatcher(parseScopeEntry(entry)));
  return (path) => tests.some((test) => test(path));
}

/**
 * What an agent may write: the scope matcher minus the repository's protected paths (CI, code
 * ownership, Fanout's own configuration), which no scope can grant. The planner keeps
 * `createScopeMatcher` for overlaps.
 */
export function createWriteMatcher(
  entries: readonly string[],
  protectedPaths: ProtectedPaths,
): (path: string) => boolean {
  const inScope = createScopeMatcher(entries);
  return (path) => inScope(path) && !protectedPaths.covers(path);
}

/** A predicate for one parsed entry. */
export function entryMatcher(entry: ScopeEntry): (path: string) => boolean {
  switch (entry.kind) {
    case 'file':
      return (path) => path === entry.path;
    case 'dir':
      return (path) => entry.path === '' || path.startsWith(`${entry.path}/`);
    case 'glob':
      return globMatcher(entry.pattern);
  }
}

const compiled = new Map<string, (path: string) => boolean>();

/** A compiled glob (cached: scope checks compare the same few patterns many times). */
export function globMatcher(pattern: string): (path: string) => boolean {
  let matcher = compiled.get(pattern);
  if (!matcher) {
    const match = picomatch(pattern, MATCH_OPTIONS);
    // One argument only: picomatch's second parameter returns a (truthy) object, and
    // Array.prototype.filter would pass the index there.
    matcher = (path: string) => match(path);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, matcher);
  }
  return matcher;
}

/** Renders an entry back to the string form used in plans and messages. */
export function formatScopeEntry(entry: ScopeEntry): string {
  if (entry.kind === 'glob') return entry.pattern;
  return entry.kind === 'dir' ? `${entry.path}/` : entry.path;
}

function stripDotSlash(path: string): string {
  let result = path;
  while (result.startsWith('./')) result = result.slice(2);
  return result;
}

/** True when any of the files matches any of the globs (a validation command's `paths`). */
export function touchesAny(files: readonly string[], globs: readonly string[]): boolean {
  const matches = picomatch([...globs], MATCH_OPTIONS);
  return files.some((file) => matches(file));
}
