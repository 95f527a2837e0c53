import { entryMatcher, globMatcher, type ScopeEntry } from './scope.js';

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/**
 * Could any path fall inside both entries? Exact for literals; for globs it is conservative: it
 * answers false only when the patterns provably cannot match one path (different literal
 * segments, incompatible literal prefixes or suffixes such as `*.ts` against `*.md`).
 */
export function entriesMayOverlap(a: ScopeEntry, b: ScopeEntry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.path === b.path;
  if (a.kind === 'file') return entryMatcher(b)(a.path);
  if (b.kind === 'file') return entryMatcher(a)(b.path);
  return patternsMayOverlap(asPattern(a), asPattern(b));
}

/** Conservative check that two glob patterns can match a common path. */
export function patternsMayOverlap(a: string, b: string): boolean {
  // Braces may hold slashes (`src/{a/b,c}.ts`): expanded first, so segments are real segments.
  const left = expandBraces(a);
  const right = expandBraces(b);
  if (left === null || right === null) return true;
  return left.some((x) => right.some((y) => segmentsMayOverlap(x.split('/'), y.split('/'), 0, 0, new Map())));
}

const MAX_EXPANSIONS = 256;

/** `a{b,c{d,e}}` → `ab`, `acd`, `ace`; null when it would expand past a sane size (then: may overlap). */
export function expandBraces(pattern: string): string[] | null {
  const open = findTopBrace(pattern);
  if (!open) return [pattern];
  const { start, end, alternatives } = open;
  if (alternatives.length < 2) return [pattern];
  const results: string[] = [];
  for (const alternative of alternatives) {
    const expanded = expandBraces(`${pattern.slice(0, start)}${alternative}${pattern.slice(end + 1)}`);
    if (expanded === null) return null;
    results.push(...expanded);
    if (results.length > MAX_EXPANSIONS) return null;
  }
  return results;
}

/** The first brace group with a top-level comma: its bounds and its comma-separated parts. */
function findTopBrace(pattern: string): { start: number; end: number; alternatives: string[] } | null {
  for (let start = pattern.indexOf('{'); start !== -1; start = pattern.indexOf('{', start + 1)) {
    if (start > 0 && pattern[start - 1] === '\\') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let index = start; index < pattern.length; index += 1) {
      const char = pattern[index];
      if (char === '\\') index += 1;
      else if (char === '{') depth += 1;
      else if (char === ',' && depth === 1) commas.push(index);
      else if (char === '}') {
        depth -= 1;
        if (depth === 0) {
          if (commas.length === 0) break;
          const bounds = [start, ...commas, index];
          return {
            start,
            end: index,
            alternatives: bounds.slice(0, -1).map((from, k) => pattern.slice(from + 1, bounds[k + 1])),
          };
        }
      }
    }
  }
  return null;
}

function asPattern(entry: ScopeEntry): string {
  if (entry.kind === 'glob') return entry.pattern;
  if (entry.kind === 'dir') return entry.path === '' ? '**' : `${entry.path}/**`;
  return entry.path;
}

function segmentsMayOverlap(a: string[], b: string[], i: number, j: number, memo: Map<string, boolean>): boolean {
  const key = `${i}:${j}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const result = computeSegments(a, b, i, j, memo);
  memo.set(key, result);
  return result;
}

function computeSegments(a: string[], b: string[], i: number, j: number, memo: Map<string, boolean>): boolean {
  if (i === a.length && j === b.length) return true;
  if (i === a.length) return b.slice(j).every((segment) => segment === '**');
  if (j === b.length) return a.slice(i).every((segment) => segment === '**');
  const left = a[i] as string;
  const right = b[j] as string;
  // `**` stands for zero or more whole segments.
  if (left === '**') {
    return segmentsMayOverlap(a, b, i + 1, j, memo) || segmentsMayOverlap(a, b, i, j + 1, memo);
  }
  if (right === '**') {
    return segmentsMayOverlap(a, b, i, j + 1, memo) || segmentsMayOverlap(a, b, i + 1, j, memo);
  }
  return segmentMayOverlap(left, right) && segmentsMayOverlap(a, b, i + 1, j + 1, memo);
}

function segmentMayOverlap(a: string, b: string): boolean {
  const aGlob = GLOB_CHARS.test(a);
  const bGlob = GLOB_CHARS.test(b);
  if (!aGlob && !bGlob) return a === b;
  if (!aGlob) return globMatcher(b)(a);
  if (!bGlob) return globMatcher(a)(b);
  const [aPrefix, aSuffix] = literalEnds(a);
  const [bPrefix, bSuffix] = literalEnds(b);
  const prefixesAgree = aPrefix.startsWith(bPrefix) || bPrefix.startsWith(aPrefix);
  const suffixesAgree = aSuffix.endsWith(bSuffix) || bSuffix.endsWith(aSuffix);
  return prefixesAgree && suffixesAgree;
}

/** The literal text before the first and after the last glob character of a segment. */
function literalEnds(segment: string): [string, string] {
  const first = segment.search(GLOB_CHARS);
  let last = segment.length - 1;
  while (last >= 0 && !GLOB_CHARS.test(segment[last] as string)) last -= 1;
  return [segment.slice(0, first), segment.slice(last + 1)];
}
