import { entriesMayOverlap } from '../domain/pattern-overlap.js';
import { entryMatcher, formatScopeEntry, parseScopeEntry, type ScopeEntry } from '../domain/scope.js';

/** Two subtasks whose write scopes share files or may create the same path. */
export interface ScopeOverlap {
  a: string;
  b: string;
  /** Existing repository files in both scopes (at most MAX_NAMED_FILES named). */
  files: string[];
  /** How many existing files are shared in all. */
  fileCount: number;
  /** Entry pairs that may produce a common new path, e.g. `src/new.ts` and `src/**`. */
  entries: Array<[string, string]>;
}

export interface ScopedSubtask {
  id: string;
  writeScope: readonly string[];
}

const MAX_NAMED_FILES = 10;

/** A sorted copy of the repository file list, with a set for exact look-ups. */
export interface FileIndex {
  sorted: readonly string[];
  set: ReadonlySet<string>;
}

/** Indexes a repository file list once, so several checks can share it. */
export function indexFiles(files: readonly string[]): FileIndex {
  const sorted = [...files].sort();
  return { sorted, set: new Set(sorted) };
}

/**
 * Finds every pair of subtasks whose write scopes overlap (normalized entries, see
 * normalizeScopeEntry). Existing files are matched exactly; entries that name no existing file
 * (new files, new directories, globs that match nothing yet) are compared as patterns,
 * conservatively.
 */
export function findScopeOverlaps(subtasks: readonly ScopedSubtask[], index: FileIndex): ScopeOverlap[] {
  const parsed = subtasks.map((subtask) => subtask.writeScope.map(parseScopeEntry));
  const owners = new Map<string, number[]>();
  const anchored = parsed.map((entries, owner) =>
    entries.map((entry) => {
      const matched = matchExisting(entry, index);
      for (const file of matched) addOwner(owners, file, owner);
      return matched.length > 0;
    }),
  );

  const pairs = new Map<string, ScopeOverlap>();
  const pairFor = (i: number, j: number): ScopeOverlap => {
    const key = `${i}:${j}`;
    let pair = pairs.get(key);
    if (!pair) {
      pair = { a: subtasks[i]!.id, b: subtasks[j]!.id, files: [], fileCount: 0, entries: [] };
      pairs.set(key, pair);
    }
    return pair;
  };

  for (const [file, fileOwners] of owners) {
    if (fileOwners.length < 2) continue;
    for (let x = 0; x < fileOwners.length; x += 1) {
      for (let y = x + 1; y < fileOwners.length; y += 1) {
        const pair = pairFor(fileOwners[x]!, fileOwners[y]!);
        pair.fileCount += 1;
        if (pair.files.length < MAX_NAMED_FILES) pair.files.push(file);
      }
    }
  }

  for (let i = 0; i < parsed.length; i += 1) {
    for (let j = i + 1; j < parsed.length; j += 1) {
      for (const [x, left] of parsed[i]!.entries()) {
        for (const [y, right] of parsed[j]!.entries()) {
          // Two existing files were compared exactly above; a directory or glob can also create
          // new paths (`src/` and `**/*.ts` may both make `src/new.ts`), so it is compared as a pattern too.
          if (anchored[i]![x] && anchored[j]![y] && left.kind === 'file' && right.kind === 'file') continue;
          if (!entriesMayOverlap(left, right)) continue;
          pairFor(i, j).entries.push([formatScopeEntry(left), formatScopeEntry(right)]);
        }
      }
    }
  }

  return [...pairs.values()].map((pair) => ({ ...pair, files: pair.files.sort() }));
}

function addOwner(owners: Map<string, number[]>, file: string, owner: number): void {
  const list = owners.get(file);
  if (!list) {
    owners.set(file, [owner]);
    return;
  }
  if (list[list.length - 1] !== owner) list.push(owner);
}

/** Existing files an entry covers; directory and glob look-ups only scan their static prefix. */
function matchExisting(entry: ScopeEntry, index: FileIndex): string[] {
  if (entry.kind === 'file') return index.set.has(entry.path) ? [entry.path] : [];
  const prefix = entry.kind === 'dir' ? entry.path : entry.base;
  const candidates = prefixRange(index.sorted, prefix === '' ? '' : `${prefix}/`);
  if (entry.kind === 'dir') return candidates;
  const matches = entryMatcher(entry);
  return candidates.filter(matches);
}

function prefixRange(sorted: readonly string[], prefix: string): string[] {
  if (prefix === '') return [...sorted];
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as string) < prefix) low = mid + 1;
    else high = mid;
  }
  const result: string[] = [];
  for (let k = low; k < sorted.length && (sorted[k] as string).startsWith(prefix); k += 1) {
    result.push(sorted[k] as string);
  }
  return result;
}
