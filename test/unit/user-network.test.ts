import { describe, expect, it } from 'vitest';
import {
  FORBIDDEN_RANGES,
  networkPolicy,
  proxyEndpoints,
  resolverSetup,
} from '../../src/adapters/command/network-policy.js';
import { runWithUserNetwork } from '../../src/adapters/command/user-network.js';
import { isLoopbackAddress, parseNetworkAllowEntry } from '../../src/domain/network-allow.js';
import type { CommandRequest, CommandResult, CommandRunner } from '../../src/ports/command-runner.js';

describe('networkAllow entries', () => {
  it('reads ranges, single addresses and host:port, normalized', () => {
    expect(parseNetworkAllowEntry('10.1.0.0/16')).toEqual({
      kind: 'range',
      cidr: '10.1.0.0/16',
      family: 4,
      prefix: 16,
    });
    expect(parseNetworkAllowEntry('10.1.2.3')).toMatchObject({ kind: 'range', cidr: '10.1.2.3/32' });
    expect(parseNetworkAllowEntry('fd12:0:0:0::/48')).toMatchObject({ kind: 'range', cidr: 'fd12::/48', family: 6 });
    expect(parseNetworkAllowEntry('fd00:ec2::254')).toMatchObject({ cidr: 'fd00:ec2::254/128' });
    expect(parseNetworkAllowEntry('[fd12::5]:443')).toEqual({ kind: 'port', host: 'fd12::5', port: 443 });
    expect(parseNetworkAllowEntry('db.internal:5432')).toEqual({ kind: 'port', host: 'db.internal', port: 5432 });
    expect(parseNetworkAllowEntry('localhost:8080')).toEqual({ kind: 'port', host: 'localhost', port: 8080 });
    // Without brackets, an IPv6 address's last group is no port.
    expect(parseNetworkAllowEntry('fd12::5:443')).toMatchObject({ kind: 'range', cidr: 'fd12::5:443/128' });
  });

  it('refuses what is neither, naming the entry', () => {
    expect(parseNetworkAllowEntry('db_internal:5432')).toEqual({
      problem: '"db_internal:5432": db_internal is not a host name',
    });
    expect(parseNetworkAllowEntry('[10.0.0.1]:80')).toEqual({
      problem: '"[10.0.0.1]:80": 10.0.0.1 is not an IPv6 address',
    });
    expect(parseNetworkAllowEntry('::1')).toMatchObject({
      problem: expect.stringContaining("this machine's loopback"),
    });
    expect(parseNetworkAllowEntry('127.0.0.0/8')).toMatchObject({ problem: expect.stringContaining('loopback') });
  });

  it('knows the loopback in each of its spellings', () => {
    for (const address of ['127.0.0.1', '127.9.9.9', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', 'fe80::1', '::2', '128.0.0.1'])
      expect(isLoopbackAddress(address), address).toBe(false);
  });
});

describe('networkPolicy', () => {
  const policy = networkPolicy({
    openings: [
      { cidr: '10.1.0.0/16' },
      { cidr: '10.9.9.9/32' },
      { address: '192.168.1.5', port: 5432, protocols: ['tcp', 'udp'] },
      { address: '127.0.0.1', port: 3128, protocols: ['tcp'] },
      { address: '::1', port: 8080, protocols: ['tcp', 'udp'] },
      { cidr: 'fd12::/48' },
    ],
    hostAddresses: ['192.0.2.2', 'fd00::2', '127.0.0.1'],
    dnsForward: ['10.0.2.3'],
  });

  it('closes the private, link-local and metadata ranges, and the host itself, as unreachable', () => {
    for (const cidr of FORBIDDEN_RANGES.filter((range) => !range.includes(':')))
      expect(policy.rules4).toContain(`rule add to ${cidr} unreachable pref 1300\n`);
    for (const cidr of ['fc00::/7', 'fe80::/10'])
      expect(policy.rules6).toContain(`rule add to ${cidr} unreachable pref 1300\n`);
    expect(FORBIDDEN_RANGES).toEqual(expect.arrayContaining(['169.254.0.0/16', '100.64.0.0/10', '172.16.0.0/12']));
    expect(policy.rules4).toContain('rule add to 192.0.2.2/32 unreachable pref 1100\n');
    expect(policy.rules6).toContain('rule add to fd00::2/128 unreachable pref 1100\n');
    // The loopback is the namespace's own: no rule, and only forwarded ports reach the host's.
    expect(policy.rules4).not.toContain('127.0.0.1');
  });

  it('opens what is named exactly before the host is closed, and ranges only after it', () => {
    expect(policy.rules4).toContain('rule add to 10.9.9.9/32 lookup main pref 1000\n');
    expect(policy.rules4).toContain('rule add to 192.168.1.5/32 ipproto tcp dport 5432 lookup main pref 1000\n');
    expect(policy.rules4).toContain('rule add to 192.168.1.5/32 ipproto udp dport 5432 lookup main pref 1000\n');
    expect(policy.rules4).toContain('rule add to 10.0.2.3/32 ipproto udp dport 53 lookup main pref 1000\n');
    expect(policy.rules4).toContain('rule add to 10.1.0.0/16 lookup main pref 1200\n');
    expect(policy.rules6).toContain('rule add to fd12::/48 lookup main pref 1200\n');
    expect(policy.loopbackTcp).toEqual([3128, 8080]);
    expect(policy.loopbackUdp).toEqual([8080]);
  });
});

describe('proxies and the resolver', () => {
  it('finds the proxies the environment names, with default ports', () => {
    expect(
      proxyEndpoints({
        HTTPS_PROXY: 'http://127.0.0.1:3128',
        http_proxy: 'proxy.corp:8080',
        HTTP_PROXY: 'https://user:secret@[fd00::1]',
        ALL_PROXY: 'not a url at all',
        NO_PROXY: 'localhost',
      }),
    ).toEqual([
      { host: '127.0.0.1', port: 3128 },
      { host: 'fd00::1', port: 443 },
      { host: 'proxy.corp', port: 8080 },
    ]);
  });

  it("points the namespace's resolver at pasta's forward for the families the host resolves with", () => {
    expect(resolverSetup('# systemd\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n')).toEqual({
      text: 'nameserver 10.0.2.3\noptions edns0 trust-ad\nsearch corp.example\n',
      forward: ['10.0.2.3'],
    });
    expect(resolverSetup('nameserver fd00::53\nnameserver 10.255.255.53\n').forward).toEqual([
      'fd00:fa::3',
      '10.0.2.3',
    ]);
    expect(resolverSetup(null)).toEqual({ text: '\n', forward: [] });
  });
});

describe('runWithUserNetwork', () => {
  const request: CommandRequest = { argv: ['true'], cwd: '/', timeoutMs: 1000, outputLimit: 1000 };
  const recording = () => {
    const seen: CommandRequest[] = [];
    const runner: CommandRunner = {
      confinesProcesses: true,
      privateHome: () => Promise.reject(new Error('unused')),
      run: (given) => {
        seen.push(given);
        return Promise.resolve({ exitCode: 0 } as CommandResult);
      },
    };
    return { seen, runner };
  };

  it('refuses a networked command without pasta instead of giving it the host network, and says how to install it', async () => {
    const { seen, runner } = recording();
    const result = await runWithUserNetwork(
      runner,
      { ...request, network: true },
      { support: { ok: false, problem: 'pasta is not installed (apt-get install passt)' } },
    );
    expect(seen).toHaveLength(0);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain('apt-get install passt');
  });

  it('leaves a command without network as it is', async () => {
    const { seen, runner } = recording();
    await runWithUserNetwork(runner, request, { support: { ok: false, problem: 'none' } });
    expect(seen).toEqual([request]);
  });
});
