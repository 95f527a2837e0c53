import { describe, expect, it } from 'vitest';
import { isProtectedPath } from '../../src/domain/protected-paths.js';
import { createScopeMatcher, createWriteMatcher } from '../../src/domain/scope.js';

describe('protected paths', () => {
  it.each([
    ['.github/workflows/ci.yml', true],
    ['.github/workflows/nested/x.yaml', true],
    ['.github/workflows', true],
    ['.github/fanout.yml', true],
    ['.GitHub/Workflows/ci.yml', true],
    ['./.github/fanout.yml', true],
    ['.github/CODEOWNERS', false],
    ['.github/workflows-docs.md', false],
    ['src/.github/workflows/ci.yml', false],
    ['docs/fanout.yml', false],
  ])('%j is protected: %s', (path, expected) => {
    expect(isProtectedPath(path)).toBe(expected);
  });

  it('the write matcher is the scope matcher minus protected paths; the scope matcher is unchanged', () => {
    const canWrite = createWriteMatcher(['**']);
    const inScope = createScopeMatcher(['**']);

    expect(canWrite('src/a.ts')).toBe(true);
    expect(canWrite('.github/workflows/ci.yml')).toBe(false);
    expect(canWrite('.github/fanout.yml')).toBe(false);
    expect(inScope('.github/workflows/ci.yml')).toBe(true);
    expect(createWriteMatcher(['src/'])('README.md')).toBe(false);
  });
});
