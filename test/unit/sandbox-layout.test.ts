import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bwrapArguments, type SandboxLayout } from '../../src/adapters/command/bwrap-arguments.js';
import { SYSTEM_PATHS } from '../../src/adapters/command/bwrap-runner.js';
import { etcCopies, etcEntries } from '../../src/adapters/command/etc-allow-list.js';
import { ownPaths } from '../../src/adapters/command/own-paths.js';
import { toolchainPaths } from '../../src/adapters/command/toolchain-paths.js';
import { tempDir } from '../support/temp-dir.js';

/** The host paths a bwrap argument list mounts (binds, links, tmpfs), by where they appear in the sandbox. */
function mounted(args: string[]): Map<string, string> {
  const targets = new Map<string, string>();
  args.forEach((arg, index) => {
    if (arg === '--ro-bind' || arg === '--bind' || arg === '--symlink') targets.set(args[index + 2]!, arg);
    if (arg === '--tmpfs') targets.set(args[index + 1]!, arg);
  });
  return targets;
}

function layout(extra: Partial<SandboxLayout> = {}): SandboxLayout {
  return {
    systemPaths: SYSTEM_PATHS,
    etcPaths: etcEntries(),
    toolPaths: [],
    hiddenPaths: [],
    cwd: '/tmp/worktree',
    network: false,
    canDisableUserns: false,
    ...extra,
  };
}

describe('what of /etc and /opt a sandboxed command sees', () => {
  it('shows only the allow-listed entries of /etc, never /etc or /opt whole', async () => {
    const etc = await tempDir('fanout-etc-');
    for (const name of ['passwd', 'group', 'hosts', 'gitconfig', 'pip.conf', 'environment', 'fanout.env', 'python3.11'])
      await writeFile(join(etc, name), 'x');
    for (const dir of ['ssl/private', 'alternatives', 'java-17-openjdk', 'app-secrets'])
      await mkdir(join(etc, dir), { recursive: true });
    expect(etcEntries(etc).map((path) => path.slice(etc.length + 1))).toEqual([
      'alternatives',
      'group',
      'hosts',
      'java-17-openjdk',
      'passwd',
      'python3.11',
      'ssl',
    ]);

    const args = bwrapArguments(layout({ hiddenPaths: ['/etc/ssl/private', '/etc/shadow'] }));
    const seen = mounted(args);
    expect(seen.has('/etc')).toBe(false);
    expect(seen.has('/opt')).toBe(false);
    expect(seen.has('/etc/shadow')).toBe(false);
    expect(seen.get('/etc/passwd')).toBe('--ro-bind');
    expect(seen.get('/etc/ssl')).toBe('--ro-bind');
    // Inside a shown directory, a hidden one is covered after it.
    expect(seen.get('/etc/ssl/private')).toBe('--tmpfs');
    expect(args.indexOf('/etc/ssl/private')).toBeGreaterThan(args.indexOf('/etc/ssl'));
  });

  it('keeps a link into the system directories a link (/etc/localtime names its zone), and shows the content of one leading elsewhere', async () => {
    const etc = await tempDir('fanout-etc-');
    await symlink('/usr/share/zoneinfo/Etc/UTC', join(etc, 'localtime'));
    // systemd-resolved's resolv.conf lives under /run, which the sandbox does not mount.
    const run = await tempDir('fanout-run-');
    await writeFile(join(run, 'stub-resolv.conf'), 'nameserver 127.0.0.53\n');
    await symlink(join(run, 'stub-resolv.conf'), join(etc, 'resolv.conf'));
    const args = bwrapArguments(layout({ etcPaths: etcEntries(etc) }));
    const at = (path: string) => args.slice(args.lastIndexOf(path) - 2, args.lastIndexOf(path) + 1);
    expect(at(join(etc, 'localtime'))).toEqual(['--symlink', '/usr/share/zoneinfo/Etc/UTC', join(etc, 'localtime')]);
    expect(at(join(etc, 'resolv.conf'))).toEqual(['--ro-bind', join(etc, 'resolv.conf'), join(etc, 'resolv.conf')]);
  });

  it('copies for none what tools need of /etc, around hidden paths', async () => {
    const etc = await tempDir('fanout-etc-');
    await mkdir(join(etc, 'ssl/private'), { recursive: true });
    await mkdir(join(etc, 'ssl/certs'));
    await writeFile(join(etc, 'ssl/certs/ca.pem'), 'ca');
    await writeFile(join(etc, 'ssl/private/key.pem'), 'key');
    await writeFile(join(etc, 'ssl/openssl.cnf'), 'cnf');
    await writeFile(join(etc, 'passwd'), 'root:x:0:0::/root:/bin/bash\n');
    await mkdir(join(etc, 'alternatives'));
    await symlink('/usr/bin/mawk', join(etc, 'alternatives/awk'));
    expect(etcCopies(etcEntries(etc), [join(etc, 'ssl/private')], etc).sort()).toEqual([
      'alternatives',
      'passwd',
      'ssl/certs',
      'ssl/openssl.cnf',
    ]);
  });

  // A directory of its own under /opt needs root (CI runs as root).
  (process.geteuid?.() === 0 ? it : it.skip)('mounts a tool installation under /opt that is on PATH', async () => {
    const tool = await mkdtemp('/opt/fanout-tool-');
    try {
      await mkdir(join(tool, 'bin'));
      expect(toolchainPaths(join(tool, 'bin'), { home: '/nonexistent-home', systemPaths: SYSTEM_PATHS })).toEqual([
        tool,
      ]);
    } finally {
      await rm(tool, { recursive: true, force: true });
    }
  });
});

describe("Fanout's own paths, hidden from every command", () => {
  it('are the directory it started from, its installation, its .env, the private key and its directory', () => {
    expect(
      ownPaths({
        startDirectory: '/opt/fanout',
        installDirectory: '/usr/lib/node_modules/fanout',
        dotEnvFile: '/opt/fanout/.env',
        privateKeyPath: 'keys/app.pem',
        keep: ['/usr/bin'],
      }).sort(),
    ).toEqual([
      '/opt/fanout',
      '/opt/fanout/.env',
      '/opt/fanout/keys',
      '/opt/fanout/keys/app.pem',
      '/usr/lib/node_modules/fanout',
    ]);
  });

  it("never hide a system directory or node's own installation whole (only their files), nor a descriptor", () => {
    expect(
      ownPaths({
        startDirectory: '/',
        installDirectory: '/opt/fanout',
        dotEnvFile: '/.env',
        privateKeyPath: '/dev/fd/63',
        keep: ['/opt/fanout/node/bin'],
      }),
    ).toEqual(['/.env']);
  });
});
