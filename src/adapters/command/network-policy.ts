import { isIP } from 'node:net';
import { isLoopbackAddress } from '../../domain/network-allow.js';

/**
 * The namespace's side of the link pasta makes (slirp's addresses): not the host's, so that the
 * host's own addresses are somewhere else, and only reached where a rule lets them be.
 */
export const NAMESPACE_LINK = {
  address4: '10.0.2.100',
  prefix4: 24,
  gateway4: '10.0.2.2',
  dns4: '10.0.2.3',
  address6: 'fd00:fa::100',
  gateway6: 'fd00:fa::2',
  dns6: 'fd00:fa::3',
} as const;

/**
 * What a networked command never reaches unless `networkAllow:` names it: private and shared
 * ranges (a LAN, a VPC, Redis on a private address), link-local ones (the cloud metadata service
 * at 169.254.169.254 and fd00:ec2::254, which fc00::/7 holds), multicast, and Azure's host
 * endpoint. The host's loopback is out of reach anyway: the namespace has a loopback of its own.
 */
export const FORBIDDEN_RANGES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '168.63.129.16/32',
  '224.0.0.0/4',
  '255.255.255.255/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

/** A destination opened for networked commands: every port of a range, or one port of one address. */
export type Opening = { cidr: string } | { address: string; port: number; protocols: ReadonlyArray<'tcp' | 'udp'> };

/** How one networked command's namespace is set up: pasta's forwards and the routing rules. */
export interface NetworkPolicy {
  /** Ports of the host's loopback that the namespace's own loopback forwards to (pasta `-T`, `-U`). */
  loopbackTcp: number[];
  loopbackUdp: number[];
  /** `ip -4 -batch` and `ip -6 -batch` input: `rule add ...` lines. */
  rules4: string;
  rules6: string;
}

// Rule preferences, first match wins: what is named exactly, then the host's own addresses
// (closed even inside an opened range), then opened ranges, then the forbidden ranges.
const EXACT = 1000;
const HOST = 1100;
const RANGE = 1200;
const FORBIDDEN = 1300;

/**
 * The routing rules and forwards for a networked command. Rules match the destination (and for
 * one port, protocol and port), so the forbidden ranges fail at once as unreachable, never by a
 * timeout, and a more specific opening comes first.
 */
export function networkPolicy(input: {
  openings: readonly Opening[];
  /** The host's own interface addresses, closed unless named exactly. */
  hostAddresses: readonly string[];
  /** Where pasta answers DNS (UDP 53 only). */
  dnsForward: readonly string[];
}): NetworkPolicy {
  const rules: string[] = [];
  const loopbackTcp = new Set<number>();
  const loopbackUdp = new Set<number>();
  const openings: Opening[] = [
    ...input.openings,
    ...input.dnsForward.map((address): Opening => ({ address, port: 53, protocols: ['udp'] })),
  ];
  for (const opening of openings) {
    if ('cidr' in opening) {
      const [address = '', prefix = ''] = opening.cidr.split('/');
      const exact = Number(prefix) === (isIP(address) === 4 ? 32 : 128);
      rules.push(`rule add to ${opening.cidr} lookup main pref ${exact ? EXACT : RANGE}`);
      continue;
    }
    if (isLoopbackAddress(opening.address)) {
      for (const protocol of opening.protocols) (protocol === 'tcp' ? loopbackTcp : loopbackUdp).add(opening.port);
      continue;
    }
    for (const protocol of opening.protocols)
      rules.push(
        `rule add to ${hostCidr(opening.address)} ipproto ${protocol} dport ${opening.port} lookup main pref ${EXACT}`,
      );
  }
  for (const address of new Set(input.hostAddresses))
    if (isIP(address) !== 0 && !isLoopbackAddress(address))
      rules.push(`rule add to ${hostCidr(address)} unreachable pref ${HOST}`);
  for (const cidr of FORBIDDEN_RANGES) rules.push(`rule add to ${cidr} unreachable pref ${FORBIDDEN}`);
  const family = (line: string) => (line.split(' ')[3]!.includes(':') ? 6 : 4);
  return {
    loopbackTcp: [...loopbackTcp].sort((a, b) => a - b),
    loopbackUdp: [...loopbackUdp].sort((a, b) => a - b),
    rules4: rules
      .filter((line) => family(line) === 4)
      .map((line) => `${line}\n`)
      .join(''),
    rules6: rules
      .filter((line) => family(line) === 6)
      .map((line) => `${line}\n`)
      .join(''),
  };
}

function hostCidr(address: string): string {
  const plain = address.split('%')[0]!;
  return `${plain}/${isIP(plain) === 4 ? 32 : 128}`;
}

/** The variables that name a proxy; what networked commands are given of the host's environment. */
export const PROXY_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'ALL_PROXY',
  'all_proxy',
  'NO_PROXY',
  'no_proxy',
] as const;

const DEFAULT_PORTS: Record<string, number> = {
  'http:': 80,
  'https:': 443,
  'socks:': 1080,
  'socks4:': 1080,
  'socks5:': 1080,
  'socks5h:': 1080,
};

/** The proxies the environment names (host and port each), so that they stay reachable; unparseable values are skipped. */
export function proxyEndpoints(env: NodeJS.ProcessEnv): Array<{ host: string; port: number }> {
  const endpoints = new Map<string, { host: string; port: number }>();
  for (const name of PROXY_VARIABLES) {
    if (name.toUpperCase() === 'NO_PROXY') continue;
    const value = env[name]?.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
    } catch {
      continue;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
    if (!host || port === undefined) continue;
    endpoints.set(`${host} ${port}`, { host, port });
  }
  return [...endpoints.values()];
}

/**
 * The namespace's resolv.conf: pasta's DNS forward, for each address family the host has a
 * resolver of (in the host's order), and the host's search and options lines.
 */
export function resolverSetup(hostResolvConf: string | null): { text: string; forward: string[] } {
  const lines = (hostResolvConf ?? '').split('\n').map((line) => line.trim());
  const forward: string[] = [];
  for (const line of lines) {
    const server = /^nameserver\s+(\S+)/.exec(line)?.[1];
    if (!server) continue;
    const address = isIP(server.split('%')[0]!) === 4 ? NAMESPACE_LINK.dns4 : NAMESPACE_LINK.dns6;
    if (isIP(server.split('%')[0]!) !== 0 && !forward.includes(address)) forward.push(address);
  }
  const kept = lines.filter((line) => /^(search|domain|options)\s/.test(line));
  return { text: [...forward.map((address) => `nameserver ${address}`), ...kept].join('\n') + '\n', forward };
}
