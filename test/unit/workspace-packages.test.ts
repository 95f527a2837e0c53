import { describe, expect, it } from 'vitest';
import {
  detectWorkspacePackages,
  readWorkspacePackages,
  type WorkspacePackage,
} from '../../src/domain/workspace-packages.js';

/** A repository as a file list plus the text of the manifests among them. */
function repository(manifests: Record<string, string>, otherFiles: readonly string[] = []) {
  const files = [...Object.keys(manifests), ...otherFiles].sort();
  const read = (path: string) => manifests[path] ?? null;
  return { files, read };
}

const json = (value: unknown) => JSON.stringify(value);
const summary = (packages: readonly WorkspacePackage[]) =>
  packages.map((pkg) => `${pkg.path} ${pkg.ecosystem} ${pkg.name ?? '-'} ${pkg.fileCount}`);

describe('detectWorkspacePackages', () => {
  it('lists every package of an npm-workspaces monorepo that also holds Python packages', () => {
    const { files, read } = repository(
      {
        'package.json': json({ name: 'root', private: true, workspaces: ['packages/*', 'apps/web'] }),
        'packages/core/package.json': json({ name: '@acme/core' }),
        'packages/cli/package.json': json({ name: '@acme/cli' }),
        'apps/web/package.json': json({ name: 'web' }),
        'apps/docs/package.json': json({ name: 'docs-site' }),
        'python/sdk/pyproject.toml':
          '[build-system]\nrequires = ["hatchling"]\n\n[project]\nname = "acme-sdk" # the SDK\nversion = "1.0"\n',
        'python/legacy/setup.py':
          'from setuptools import setup\nsetup(\n    name="acme-legacy",\n    version="0.1",\n)\n',
        'python/poetry-app/pyproject.toml': '[tool.poetry]\nname = "poetry-app"\n',
      },
      [
        'README.md',
        'packages/core/src/index.ts',
        'packages/core/src/util.ts',
        'packages/cli/bin/cli.js',
        'apps/web/index.html',
        'python/sdk/acme/__init__.py',
      ],
    );

    expect(summary(detectWorkspacePackages(files, read))).toEqual([
      'apps/web npm web 2',
      'packages/cli npm @acme/cli 2',
      'packages/core npm @acme/core 3',
      'python/legacy python acme-legacy 1',
      'python/poetry-app python poetry-app 1',
      'python/sdk python acme-sdk 2',
    ]);
  });

  it.each<{ kind: string; manifests: Record<string, string>; expected: string[] }>([
    {
      kind: 'workspaces as { packages } with a negation',
      manifests: {
        'package.json': json({ workspaces: { packages: ['packages/**', '!packages/private'] } }),
        'packages/a/package.json': '{}',
        'packages/group/b/package.json': '{}',
        'packages/private/package.json': '{}',
      },
      expected: ['packages/a', 'packages/group/b'],
    },
    {
      kind: 'pnpm-workspace.yaml',
      manifests: {
        'pnpm-workspace.yaml': "packages:\n  - 'libs/*'\n  - tools/x\n  - '!libs/skip'\n",
        'package.json': json({ name: 'root' }),
        'libs/one/package.json': '{}',
        'libs/skip/package.json': '{}',
        'tools/x/package.json': '{}',
        'tools/y/package.json': '{}',
      },
      expected: ['libs/one', 'tools/x'],
    },
    {
      kind: 'lerna.json',
      manifests: { 'lerna.json': json({ packages: ['modules/*'] }), 'modules/m/package.json': '{}' },
      expected: ['modules/m'],
    },
    {
      kind: 'a Cargo workspace with a multi-line members list, a glob and an exclusion',
      manifests: {
        'Cargo.toml':
          '[package]\nname = "root"\n\n[workspace]\nmembers = [\n  "crates/*", # all crates\n  "tools/gen",\n]\nexclude = ["crates/old"]\n\n[workspace.dependencies]\nserde = "1"\n',
        'crates/core/Cargo.toml': '[package]\nname = "acme-core"\n',
        'crates/old/Cargo.toml': '[package]\nname = "old"\n',
        'tools/gen/Cargo.toml': '[package]\nname = "gen"\n',
      },
      expected: ['crates/core', 'tools/gen'],
    },
    {
      kind: 'go.work with a use block and a single use',
      manifests: {
        'go.work': 'go 1.22\n\nuse (\n\t./api // the API\n\t./cmd/tool\n)\nuse ./lib\n',
        'api/go.mod': 'module example.com/api\n',
        'cmd/tool/go.mod': 'module example.com/tool\n',
        'lib/go.mod': 'module example.com/lib\n',
        'other/go.mod': 'module example.com/other\n',
      },
      expected: ['api', 'cmd/tool', 'lib'],
    },
    {
      kind: 'a workspace manifest one directory down',
      manifests: {
        'js/package.json': json({ workspaces: ['packages/*'] }),
        'js/packages/ui/package.json': '{}',
        'rust/Cargo.toml': '[workspace]\nmembers = ["engine"]\n',
        'rust/engine/Cargo.toml': '',
      },
      expected: ['js/packages/ui', 'rust/engine'],
    },
    {
      kind: 'Python projects outside test fixtures, never the root',
      manifests: {
        'pyproject.toml': '[project]\nname = "root"\n',
        'lib/pyproject.toml': '',
        'tests/fixtures/proj/setup.py': '',
        'node_modules/x/setup.py': '',
      },
      expected: ['lib'],
    },
    {
      kind: 'malformed manifests (no packages, no crash)',
      manifests: {
        'package.json': '{ not json',
        'pnpm-workspace.yaml': 'packages: [unclosed',
        'Cargo.toml': '[workspace\nmembers = ',
        'packages/a/package.json': '{}',
      },
      expected: [],
    },
    {
      kind: 'package.json files that no workspace names',
      manifests: { 'package.json': json({ name: 'single' }), 'examples/demo/package.json': '{}' },
      expected: [],
    },
  ])('finds the members of $kind', ({ manifests, expected }) => {
    const { files, read } = repository(manifests);
    expect(detectWorkspacePackages(files, read).map((pkg) => pkg.path)).toEqual(expected);
  });

  it('reads the names of Cargo crates and Go modules, and counts files of nested packages in their parent', () => {
    const { files, read } = repository(
      {
        'Cargo.toml': '[workspace]\nmembers = ["crates/*", "crates/core/macros"]\n',
        'crates/core/Cargo.toml': "[package]\nname = 'acme-core'\n",
        'crates/core/macros/Cargo.toml': '[package]\nname = "acme-macros"\n',
        'go.work': 'use ./svc\n',
        'svc/go.mod': '// the service\nmodule "example.com/svc"\n',
      },
      ['crates/core/src/lib.rs', 'crates/core/macros/src/lib.rs', 'crates/core-extra.rs'],
    );
    expect(summary(detectWorkspacePackages(files, read))).toEqual([
      'crates/core cargo acme-core 4',
      'crates/core/macros cargo acme-macros 2',
      'svc go example.com/svc 1',
    ]);
  });

  it('asks only for files in the list', () => {
    const asked: string[] = [];
    const files = ['package.json', 'packages/a/package.json', 'packages/b/index.js'];
    detectWorkspacePackages(files, (path) => {
      asked.push(path);
      return path === 'package.json' ? json({ workspaces: ['packages/*'] }) : '{}';
    });
    expect(asked.sort()).toEqual(['package.json', 'packages/a/package.json']);
  });
});

describe('readWorkspacePackages', () => {
  it('reads the workspace manifests, then each member manifest once, and finds what the pure detection finds', async () => {
    const { files, read } = repository(
      {
        'package.json': json({ workspaces: ['packages/*'] }),
        'packages/a/package.json': json({ name: '@x/a' }),
        'packages/b/package.json': json({ name: '@x/b' }),
        'py/tool/pyproject.toml': '[project]\nname = "tool"\n',
      },
      ['packages/a/index.js'],
    );
    const reads: string[] = [];
    const packages = await readWorkspacePackages(files, async (path) => {
      reads.push(path);
      return read(path);
    });
    expect(packages).toEqual(detectWorkspacePackages(files, read));
    expect(summary(packages)).toEqual(['packages/a npm @x/a 2', 'packages/b npm @x/b 1', 'py/tool python tool 1']);
    expect(reads.sort()).toEqual([
      'package.json',
      'packages/a/package.json',
      'packages/b/package.json',
      'py/tool/pyproject.toml',
    ]);
  });

  it('treats a read that fails as an absent file', async () => {
    const files = ['package.json', 'packages/a/package.json', 'lib/pyproject.toml'];
    const packages = await readWorkspacePackages(files, async (path) => {
      if (path === 'package.json') throw new Error('git cat-file failed');
      return '';
    });
    expect(summary(packages)).toEqual(['lib python - 1']);
  });
});
