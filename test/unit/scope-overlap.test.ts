import { describe, expect, it } from 'vitest';
import { findScopeOverlaps, indexFiles } from '../../src/plan/scope-overlap.js';

const FILES = [
  'package.json',
  'package-lock.json',
  'README.md',
  'src/index.ts',
  'src/cli/main.ts',
  'src/cli/args.ts',
  'src/cli/args.test.ts',
  'src/core/engine.ts',
  'src/core/engine.test.ts',
  'src/core/.env.example',
  'docs/guide.md',
  'docs/api/reference.md',
  'test/cli.test.ts',
];
const index = indexFiles(FILES);

// [description, scope of A, scope of B, overlaps?]. Scopes are in normalized form (dirs end in /).
const TABLE: Array<[string, string[], string[], boolean]> = [
  ['same existing file', ['package.json'], ['package.json'], true],
  ['different existing files', ['package.json'], ['README.md'], false],
  ['file inside directory', ['src/cli/main.ts'], ['src/cli/'], true],
  ['sibling directories', ['src/cli/'], ['src/core/'], false],
  ['nested directories', ['src/'], ['src/core/'], true],
  ['glob and file it matches', ['src/**/*.test.ts'], ['src/core/engine.test.ts'], true],
  ['glob and file it does not match', ['src/**/*.test.ts'], ['src/core/engine.ts'], false],
  ['** covers everything', ['**'], ['docs/guide.md'], true],
  ['two globs sharing files', ['src/**'], ['**/*.test.ts'], true],
  ['two globs on disjoint files', ['src/cli/*.ts'], ['docs/**/*.md'], false],
  ['same new file', ['src/new.ts'], ['src/new.ts'], true],
  ['different new files', ['src/new-a.ts'], ['src/new-b.ts'], false],
  ['new file inside other directory', ['src/cli/new.ts'], ['src/cli/'], true],
  ['new file matched by other glob', ['src/feature/new.test.ts'], ['**/*.test.ts'], true],
  ['new directory inside existing directory', ['src/feature/'], ['src/'], true],
  ['new directory next to existing one', ['src/feature/'], ['src/cli/'], false],
  ['glob matching nothing vs directory containing its base', ['src/feature/*.ts'], ['src/'], true],
  ['glob matching nothing vs unrelated directory', ['src/feature/*.ts'], ['docs/'], false],
  ['globs matching nothing, same extension, same base', ['lib/**/*.ts'], ['lib/util/*.ts'], true],
  ['globs matching nothing, different extensions', ['lib/**/*.ts'], ['lib/**/*.md'], false],
  ['glob matching nothing vs file with other extension', ['lib/*.ts'], ['lib/readme.md'], false],
  ['hidden file covered by directory', ['src/core/.env.example'], ['src/core/'], true],
  ['hidden file covered by **', ['src/core/.env.example'], ['src/**'], true],
  ['brace glob against a listed file', ['src/{cli,core}/*.ts'], ['src/core/engine.ts'], true],
  ['brace glob against an unlisted sibling', ['src/{cli,core}/*.ts'], ['docs/'], false],
  ['new file vs glob of other extension', ['docs/new.md'], ['docs/**/*.txt'], false],
  ['case differs (paths are case-sensitive)', ['README.md'], ['readme.md'], false],
  ['one of several entries overlaps', ['src/cli/', 'package.json'], ['docs/', 'package.json'], true],
  ['several entries, none overlap', ['src/cli/', 'test/cli.test.ts'], ['src/core/', 'docs/'], false],
  // Entries that match existing files can still both create the same new path.
  ['a directory and a glob that both match existing files may create the same new file', ['src/'], ['**/*.ts'], true],
  ['a glob matching existing files and a directory of other files it may reach', ['**/*.md'], ['src/cli/'], true],
  ['two globs matching disjoint existing files, other extensions', ['src/**/*.ts'], ['**/*.md'], false],
  ['a brace holding a slash against the directory it reaches', ['src/{a/b,c}.ts'], ['src/a/**'], true],
  ['a brace holding a slash against a directory it does not reach', ['src/{a/b,c}.ts'], ['src/d/**'], false],
  ['nested braces', ['src/{cli/{x,y},core}.ts'], ['src/cli/y.ts'], true],
];

describe('findScopeOverlaps', () => {
  it.each(TABLE)('%s', (_description, a, b, expected) => {
    const overlaps = findScopeOverlaps(
      [
        { id: 'a', writeScope: a },
        { id: 'b', writeScope: b },
      ],
      index,
    );
    expect(overlaps.length > 0).toBe(expected);
    // The check is symmetric: swapping the subtasks gives the same answer.
    const swapped = findScopeOverlaps(
      [
        { id: 'b', writeScope: b },
        { id: 'a', writeScope: a },
      ],
      index,
    );
    expect(swapped.length > 0).toBe(expected);
  });

  it('names the shared files and the pair', () => {
    const [overlap, ...rest] = findScopeOverlaps(
      [
        { id: 'cli', writeScope: ['src/cli/', 'package.json'] },
        { id: 'docs', writeScope: ['docs/'] },
        { id: 'deps', writeScope: ['package.json', 'package-lock.json'] },
      ],
      index,
    );
    expect(rest).toEqual([]);
    expect(overlap).toMatchObject({ a: 'cli', b: 'deps', files: ['package.json'], fileCount: 1 });
  });

  it('names the entries when a new path collides', () => {
    const overlaps = findScopeOverlaps(
      [
        { id: 'a', writeScope: ['src/feature/new.ts'] },
        { id: 'b', writeScope: ['src/feature/'] },
      ],
      index,
    );
    expect(overlaps).toEqual([
      { a: 'a', b: 'b', files: [], fileCount: 0, entries: [['src/feature/new.ts', 'src/feature/']] },
    ]);
  });

  it('reports every overlapping pair among three subtasks', () => {
    const overlaps = findScopeOverlaps(
      [
        { id: 'a', writeScope: ['src/'] },
        { id: 'b', writeScope: ['src/cli/'] },
        { id: 'c', writeScope: ['src/core/engine.ts'] },
      ],
      index,
    );
    expect(overlaps.map((overlap) => `${overlap.a}-${overlap.b}`).sort()).toEqual(['a-b', 'a-c']);
  });
});
