import { describe, expect, it } from 'vitest';
import {
  AGENT_OUTLINE_CHARS,
  outlineForPlanner,
  outlineForSubtask,
  outlineRepository,
  PLANNER_OUTLINE_CHARS,
} from '../../src/domain/repo-outline.js';
import { detectWorkspacePackages, type WorkspacePackage } from '../../src/domain/workspace-packages.js';

const TOP_LEVEL = ['.github', 'docs', 'packages', 'python', 'scripts', 'tools', 'vendor', 'website'];

/**
 * About 27,000 files in over 12,000 directories, shaped like the large repository: a
 * vendored tree that dwarfs everything (and sorts after `packages/`, but holds most directories),
 * 60 npm workspace packages two levels down, Python projects, and top-level directories with no
 * files of their own.
 */
function largeRepository(): { files: string[]; packages: WorkspacePackage[] } {
  const manifests = new Map<string, string>([
    ['package.json', JSON.stringify({ private: true, workspaces: ['packages/deep/*'] })],
  ]);
  const files = ['package.json', 'README.md', 'tsconfig.json', '.github/workflows/ci.yml'];
  for (let n = 0; n < 60; n += 1) {
    const dir = `packages/deep/pkg-${n}`;
    files.push(`${dir}/package.json`, `${dir}/README.md`, `${dir}/src/index.ts`, `${dir}/test/index.test.ts`);
    for (let f = 0; f < 8; f += 1) files.push(`${dir}/src/module-${f}.ts`);
    manifests.set(`${dir}/package.json`, JSON.stringify({ name: `@acme/pkg-${n}` }));
  }
  for (let n = 0; n < 5; n += 1) {
    files.push(`python/tool-${n}/pyproject.toml`, `python/tool-${n}/tool_${n}/__init__.py`);
    manifests.set(`python/tool-${n}/pyproject.toml`, `[project]\nname = "acme-tool-${n}"\n`);
  }
  for (let lib = 0; lib < 100; lib += 1) {
    files.push(`vendor/lib-${lib}/README`);
    for (let mod = 0; mod < 119; mod += 1)
      files.push(`vendor/lib-${lib}/mod-${mod}/impl.c`, `vendor/lib-${lib}/mod-${mod}/impl.h`);
  }
  for (let n = 0; n < 2_500; n += 1) files.push(`docs/page-${n}.md`);
  for (const dir of ['scripts', 'tools', 'website']) for (let n = 0; n < 10; n += 1) files.push(`${dir}/item-${n}.js`);
  files.sort();
  return { files, packages: detectWorkspacePackages(files, (path) => manifests.get(path) ?? null) };
}

function directoryCount(files: readonly string[]): number {
  const directories = new Set<string>();
  for (const file of files) {
    const parts = file.split('/');
    for (let depth = 1; depth < parts.length; depth += 1) directories.add(parts.slice(0, depth).join('/'));
  }
  return directories.size;
}

const LARGE = largeRepository();
const lines = (text: string) => text.split('\n');
const directoryLine = (outline: string, directory: string) =>
  lines(outline).find((line) => line.startsWith(`${directory}/ `));

describe('outlineRepository', () => {
  it('lists every file of a small repository', () => {
    expect(outlineRepository(['README.md', 'src/a.ts'], 1_000)).toBe('README.md\nsrc/a.ts');
  });

  it('gives every top-level directory a line, even one subtree holding thousands of directories', () => {
    const outline = outlineRepository(LARGE.files, PLANNER_OUTLINE_CHARS);
    expect(outline.length).toBeLessThanOrEqual(PLANNER_OUTLINE_CHARS);
    expect(lines(outline)[0]).toMatch(
      new RegExp(`^${LARGE.files.length} files in ${directoryCount(LARGE.files)} directories`),
    );
    expect(lines(outline)[1]).toBe('./: README.md, package.json, tsconfig.json');
    for (const directory of TOP_LEVEL) expect(directoryLine(outline, directory), directory).toBeDefined();
    expect(directoryLine(outline, 'vendor')).toBe('vendor/ (23900 files, 12000 subdirs)');
    expect(lines(outline).at(-1)).toMatch(/^… \d+ more directories not shown$/);
  });

  it('spreads the budget across subtrees instead of spending it on the first large one', () => {
    const files = [
      ...Array.from({ length: 3_000 }, (_, n) => `aaa-vendored/dep-${n}/index.js`),
      'src/cli/main.ts',
      'src/lib/parse.ts',
      'test/cli/main.test.ts',
    ];
    const outline = outlineRepository(files, 1_500);
    expect(outline.length).toBeLessThanOrEqual(1_500);
    for (const directory of ['aaa-vendored', 'src', 'src/cli', 'src/lib', 'test', 'test/cli'])
      expect(directoryLine(outline, directory), directory).toBeDefined();
    expect(directoryLine(outline, 'aaa-vendored/dep-0')).toBeDefined();
  });

  it.each([200, 800, 3_000, 6_000, 20_000])('stays within a budget of %i characters', (budget) => {
    expect(outlineRepository(LARGE.files, budget).length).toBeLessThanOrEqual(budget);
  });
});

describe('outlineForPlanner', () => {
  it('lists the packages first, then a tree with every top-level directory, within 6,000 characters', () => {
    expect(LARGE.files.length).toBeGreaterThanOrEqual(27_000);
    expect(directoryCount(LARGE.files)).toBeGreaterThanOrEqual(12_000);
    expect(LARGE.packages).toHaveLength(65);

    const outline = outlineForPlanner(LARGE.files, LARGE.packages, 6_000);

    expect(outline.length).toBeLessThanOrEqual(6_000);
    expect(lines(outline)[0]).toBe('Workspace packages (65):');
    expect(outline).toContain('packages/deep/pkg-42/ (npm @acme/pkg-42, 12 files)');
    expect(outline).toContain('python/tool-3/ (python acme-tool-3, 2 files)');
    for (const pkg of LARGE.packages) expect(directoryLine(outline, pkg.path), pkg.path).toBeDefined();
    const tree = outline.slice(outline.indexOf('\n\nFiles:\n'));
    for (const directory of TOP_LEVEL) expect(directoryLine(tree, directory), directory).toBeDefined();
    // Listed packages are not repeated in the tree.
    expect(directoryLine(tree, 'packages/deep/pkg-42')).toBeUndefined();
  });

  it('keeps the package list to its share and marks the packages it leaves out in the tree', () => {
    const files = Array.from({ length: 400 }, (_, n) => [
      `libs/library-number-${n}/pyproject.toml`,
      `libs/library-number-${n}/src/code.py`,
    ]).flat();
    const packages = detectWorkspacePackages(files, () => null);
    const outline = outlineForPlanner(files, packages, 3_000);
    expect(outline.length).toBeLessThanOrEqual(3_000);
    expect(outline).toMatch(/^… \d+ more packages \(marked in the tree below when room allows\)$/m);
    expect(outline).toMatch(/^libs\/library-number-\d+\/ \[python package\] \(2 files, 1 subdir\)$/m);
  });

  it('is outlineRepository when there are no packages, and lists every file when they fit', () => {
    const files = ['README.md', 'src/a.ts'];
    expect(outlineForPlanner(files, [], 1_000)).toBe('README.md\nsrc/a.ts');
    expect(outlineForPlanner(LARGE.files, [], 6_000)).toBe(outlineRepository(LARGE.files, 6_000));
    const packages = detectWorkspacePackages(['lib/setup.py', 'lib/x.py'], () => 'setup(name="lib-x")');
    expect(outlineForPlanner(['lib/setup.py', 'lib/x.py'], packages, 1_000)).toBe(
      'Workspace packages (1):\nlib/ (python lib-x, 2 files)\n\nFiles:\nlib/setup.py\nlib/x.py',
    );
  });
});

describe('outlineForSubtask', () => {
  const scopes = (writeScope: string[], readScope: string[] = []) => ({ writeScope, readScope });

  it("shows an agent its own package's files in full on the large repository", () => {
    const outline = outlineForSubtask(
      LARGE.files,
      scopes(['packages/deep/pkg-42/src/'], ['docs/page-7.md']),
      LARGE.packages,
      AGENT_OUTLINE_CHARS,
    );

    expect(outline.length).toBeLessThanOrEqual(AGENT_OUTLINE_CHARS);
    const own = LARGE.files.filter((file) => file.startsWith('packages/deep/pkg-42/'));
    expect(own).toHaveLength(12);
    for (const file of own) expect(lines(outline), file).toContain(file);
    expect(outline).toContain('In your write scope (9 files):\npackages/deep/pkg-42/src/index.ts');
    expect(outline).toContain('In your read scope (1 file):\ndocs/page-7.md');
    expect(outline).toContain('Around your scope, in package packages/deep/pkg-42/ (@acme/pkg-42) (3 files):');
    const elsewhere = outline.slice(outline.indexOf('Elsewhere in the repository'));
    for (const directory of TOP_LEVEL) expect(directoryLine(elsewhere, directory), directory).toBeDefined();
  });

  it('lists the files beside a file scope', () => {
    const files = [...LARGE.files, 'tools/cli/main.ts', 'tools/cli/args.ts', 'tools/cli/help.ts'].sort();
    const outline = outlineForSubtask(files, scopes(['tools/cli/args.ts']), LARGE.packages, AGENT_OUTLINE_CHARS);
    expect(outline).toContain(
      'In your write scope (1 file):\ntools/cli/args.ts\n\nAround your scope (2 files):\ntools/cli/help.ts\ntools/cli/main.ts',
    );
  });

  it('says when the write scope holds no files yet', () => {
    const outline = outlineForSubtask(
      LARGE.files,
      scopes(['packages/deep/pkg-7/src/new-feature/']),
      LARGE.packages,
      AGENT_OUTLINE_CHARS,
    );
    expect(
      outline.startsWith(
        'In your write scope: no files yet.\n\nAround your scope, in package packages/deep/pkg-7/ (@acme/pkg-7) (12 files):',
      ),
    ).toBe(true);
    expect(outline).toContain('packages/deep/pkg-7/src/module-3.ts');
  });

  it('summarizes a write scope too large to list, using the whole budget when nothing else is left', () => {
    const outline = outlineForSubtask(LARGE.files, scopes(['**']), LARGE.packages, AGENT_OUTLINE_CHARS);
    expect(outline.length).toBeLessThanOrEqual(AGENT_OUTLINE_CHARS);
    expect(outline.length).toBeGreaterThan(AGENT_OUTLINE_CHARS * 0.8);
    expect(lines(outline)[0]).toBe(`In your write scope (${LARGE.files.length} files):`);
    for (const directory of TOP_LEVEL) expect(directoryLine(outline, directory), directory).toBeDefined();
    expect(outline).not.toContain('Elsewhere');
  });

  it.each([300, 1_000, 3_000, 6_000])('stays within a budget of %i characters', (budget) => {
    for (const writeScope of [['packages/deep/pkg-42/src/'], ['vendor/'], ['docs/*.md', 'README.md'], ['**']]) {
      expect(
        outlineForSubtask(LARGE.files, scopes(writeScope, ['vendor/lib-1/']), LARGE.packages, budget).length,
        writeScope.join(),
      ).toBeLessThanOrEqual(budget);
    }
  });

  it('lists every file of a small repository, as before', () => {
    expect(outlineForSubtask(['README.md', 'src/a.ts'], scopes(['src/']), [], 1_000)).toBe('README.md\nsrc/a.ts');
  });
});
