import { describe, expect, it } from 'vitest';
import { detectInstall } from '../../src/domain/package-manager.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';

const pkg = (fields: Record<string, unknown> = {}) => JSON.stringify({ name: 'x', version: '1.0.0', ...fields });

describe('detectInstall', () => {
  it.each([
    [
      'npm with package-lock.json',
      ['package.json', 'package-lock.json'],
      pkg(),
      'npm',
      ['npm', 'ci', '--no-audit', '--no-fund'],
    ],
    [
      'npm with a shrinkwrap (npm reads it first)',
      ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'],
      pkg(),
      'npm',
      ['npm', 'ci', '--no-audit', '--no-fund'],
    ],
    [
      'npm without a lockfile: no lockfile written either',
      ['package.json'],
      pkg(),
      'npm',
      ['npm', 'install', '--no-package-lock', '--no-audit', '--no-fund'],
    ],
    [
      'pnpm from its lockfile, through corepack',
      ['package.json', 'pnpm-lock.yaml'],
      pkg(),
      'pnpm',
      ['corepack', 'pnpm', 'install', '--frozen-lockfile'],
    ],
    [
      'pnpm declared',
      ['package.json', 'pnpm-lock.yaml'],
      pkg({ packageManager: 'pnpm@9.1.0+sha512.abc' }),
      'pnpm',
      ['corepack', 'pnpm', 'install', '--frozen-lockfile'],
    ],
    [
      'pnpm declared, no lockfile',
      ['package.json'],
      pkg({ packageManager: 'pnpm@9.1.0' }),
      'pnpm',
      ['corepack', 'pnpm', 'install', '--no-lockfile'],
    ],
    [
      'yarn classic from yarn.lock',
      ['package.json', 'yarn.lock'],
      pkg(),
      'yarn-classic',
      ['corepack', 'yarn', 'install', '--frozen-lockfile', '--non-interactive'],
    ],
    [
      'yarn classic declared',
      ['package.json', 'yarn.lock'],
      pkg({ packageManager: 'yarn@1.22.22' }),
      'yarn-classic',
      ['corepack', 'yarn', 'install', '--frozen-lockfile', '--non-interactive'],
    ],
    [
      'yarn berry declared',
      ['package.json', 'yarn.lock', '.yarnrc.yml'],
      pkg({ packageManager: 'yarn@4.5.0' }),
      'yarn-berry',
      ['corepack', 'yarn', 'install', '--immutable'],
    ],
    [
      'yarn berry from .yarnrc.yml beside yarn.lock',
      ['package.json', 'yarn.lock', '.yarnrc.yml'],
      pkg(),
      'yarn-berry',
      ['corepack', 'yarn', 'install', '--immutable'],
    ],
    [
      'the packageManager field wins over a stray lockfile',
      ['package.json', 'package-lock.json', 'pnpm-lock.yaml'],
      pkg({ packageManager: 'pnpm@8.0.0' }),
      'pnpm',
      ['corepack', 'pnpm', 'install', '--frozen-lockfile'],
    ],
    [
      'npm declared',
      ['package.json', 'package-lock.json'],
      pkg({ packageManager: 'npm@10.2.0' }),
      'npm',
      ['npm', 'ci', '--no-audit', '--no-fund'],
    ],
    [
      'a package.json npm cannot parse is left for npm to report',
      ['package.json'],
      '{ not json',
      'npm',
      ['npm', 'install', '--no-package-lock', '--no-audit', '--no-fund'],
    ],
  ])('%s', (_name, files, packageJson, manager, argv) => {
    expect(detectInstall(files, packageJson)).toMatchObject({ kind: 'install', manager, argv });
  });

  it('installs nothing without a package.json', () => {
    expect(detectInstall(['yarn.lock', 'Cargo.toml'], null)).toEqual({
      kind: 'none',
      reason: 'no package.json at the repository root',
    });
  });

  it('names the lockfile it installs from', () => {
    expect(detectInstall(['package.json', 'pnpm-lock.yaml'], pkg())).toMatchObject({ lockfile: 'pnpm-lock.yaml' });
    expect(detectInstall(['package.json'], pkg())).toMatchObject({ lockfile: null });
  });

  it.each([
    [
      'yarn berry without a committed lockfile',
      ['package.json'],
      pkg({ packageManager: 'yarn@3.6.0' }),
      /yarn\.lock is not committed/,
    ],
    ['bun', ['package.json', 'bun.lockb'], pkg({ packageManager: 'bun@1.1.0' }), /bun/],
    [
      'an unknown manager',
      ['package.json'],
      pkg({ packageManager: 'deno@2' }),
      /"deno@2" is not one Fanout installs with/,
    ],
  ])('refuses %s, pointing at setup:', (_name, files, packageJson, reason) => {
    const detection = detectInstall(files, packageJson);
    expect(detection.kind).toBe('unsupported');
    expect(detection.kind === 'unsupported' && detection.reason).toMatch(reason);
    expect(detection.kind === 'unsupported' && detection.reason).toContain('setup:');
  });
});

describe('setup: and copy: in .github/fanout.yml', () => {
  it('reads setup commands as strings or with a timeout, and leaves setup unset when absent', () => {
    const config = parseRepoConfig(
      'setup:\n  - npm ci\n  - run: make deps\n    timeoutSeconds: 60\ncopy: [.env.test, "config/*.local.json"]\n',
    );
    expect(config.setup).toEqual([
      { run: 'npm ci', timeoutSeconds: 1800 },
      { run: 'make deps', timeoutSeconds: 60 },
    ]);
    expect(config.copy).toEqual(['.env.test', 'config/*.local.json']);
    expect(parseRepoConfig(null)).toMatchObject({ copy: [] });
    expect(parseRepoConfig(null).setup).toBeUndefined();
    expect(parseRepoConfig('setup: []\n').setup).toEqual([]);
  });

  it.each([
    ['../secrets/.env', /copy\.0: "\.\.\/secrets\/\.env" leaves the repository/],
    ['/home/me/.npmrc', /copy\.0: "\/home\/me\/\.npmrc" is absolute/],
    ['.git/config', /copy\.0: "\.git\/config" names \.git/],
    ['sub/.GIT/hooks/*', /names \.git/],
    [':(top).env', /pathspec magic/],
    ['a\\b', /backslash/],
  ])('refuses copy entry %s, naming the key', (entry, message) => {
    expect(() => parseRepoConfig(`copy:\n  - ${JSON.stringify(entry)}\n`)).toThrow(message);
  });

  it('names a bad setup entry', () => {
    expect(() => parseRepoConfig('setup:\n  - run: npm ci\n    timeout: 5\n')).toThrow(/setup\.0/);
    expect(() => parseRepoConfig('setup: npm ci\n')).toThrow(/- setup:/);
  });
});
