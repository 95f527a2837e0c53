import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { createScopeMatcher, createWriteMatcher } from '../../src/domain/scope.js';

describe('protected paths', () => {
  it.each([
    ['.github/workflows/ci.yml', true],
    ['.github/workflows/nested/x.yaml', true],
    ['.github/workflows', true],
    ['.github/fanout.yml', true],
    ['.GitHub/Workflows/ci.yml', true],
    ['./.github/fanout.yml', true],
    // A composite action runs inside workflows, with their secrets.
    ['.github/actions/setup/action.yml', true],
    ['.github/CODEOWNERS', true],
    ['CODEOWNERS', true],
    ['docs/CODEOWNERS', true],
    ['.github/dependabot.yml', true],
    ['.github/dependabot.yaml', true],
    ['.github/workflows-docs.md', false],
    ['.github/ISSUE_TEMPLATE/bug.md', false],
    ['src/.github/workflows/ci.yml', false],
    ['src/CODEOWNERS', false],
    ['docs/fanout.yml', false],
  ])('%j is protected by default: %s', (path, expected) => {
    expect(protectedPaths().covers(path)).toBe(expected);
  });

  it('adds the configured entries (globs, directories, plain paths) to the defaults, never fewer', () => {
    const config = parseRepoConfig('protectedPaths:\n  - "deploy/**"\n  - infra/\n  - Makefile\n  - "**/*.tf"\n');
    const guarded = protectedPaths(config.protectedPaths);

    expect(guarded.entries).toEqual(expect.arrayContaining(['.github/workflows/**', 'deploy/**', 'Makefile']));
    for (const path of ['deploy/prod.sh', 'infra/main.tf', 'Makefile', 'src/x/net.tf', '.github/actions/a/action.yml'])
      expect(guarded.covers(path), path).toBe(true);
    expect(guarded.covers('src/index.ts')).toBe(false);
  });

  it.each([
    ['!.github/workflows/**', 'only adds paths'],
    ['/etc/passwd', 'is absolute'],
    ['../x', 'leaves the repository'],
  ])('refuses the protectedPaths entry %j', (entry, reason) => {
    expect(() => parseRepoConfig(`protectedPaths:\n  - "${entry}"\n`)).toThrow(reason);
  });

  it('tells scope entries that grant nothing (all protected) from those that still grant something', () => {
    const guarded = protectedPaths(['deploy/']);

    for (const entry of [
      '.github/workflows/',
      '.github/workflows/ci.yml',
      '.github/actions/**',
      'CODEOWNERS',
      'deploy/x/',
    ])
      expect(guarded.coversAll(entry), entry).toBe(true);
    for (const entry of ['.github/', '**', 'src/', '**/CODEOWNERS', '.github/*.yml'])
      expect(guarded.coversAll(entry), entry).toBe(false);
  });

  it('the write matcher is the scope matcher minus protected paths; the scope matcher is unchanged', () => {
    const canWrite = createWriteMatcher(['**'], protectedPaths(['deploy/']));
    const inScope = createScopeMatcher(['**']);

    expect(canWrite('src/a.ts')).toBe(true);
    expect(canWrite('.github/workflows/ci.yml')).toBe(false);
    expect(canWrite('.github/fanout.yml')).toBe(false);
    expect(canWrite('deploy/run.sh')).toBe(false);
    expect(inScope('.github/workflows/ci.yml')).toBe(true);
    expect(createWriteMatcher(['src/'], protectedPaths())('README.md')).toBe(false);
  });
});
