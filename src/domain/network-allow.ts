import { isIP } from 'node:net';

/**
 * One `networkAllow:` entry of `.github/fanout.yml`: a range (`10.1.0.0/16`, `fd12::/48`, or one
 * address) a networked command may reach on every port, or one port of a host (`10.1.2.3:5432`,
 * `[fd12::5]:443`, `db.internal:5432`, `127.0.0.1:8080` for a service on this machine's loopback).
 */
export type NetworkAllowEntry =
  { kind: 'range'; cidr: string; family: 4 | 6; prefix: number } | { kind: 'port'; host: string; port: number };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Parses a `networkAllow:` entry, or says why it is refused (the message names the entry). */
export function parseNetworkAllowEntry(entry: string): NetworkAllowEntry | { problem: string } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(entry);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) return { problem: `"${entry}": ${bracketed[1]} is not an IPv6 address` };
    return portEntry(entry, bracketed[1]!, bracketed[2]!);
  }
  if (entry.includes('/') && isIP(entry.split('/')[0]!) !== 0) return rangeEntry(entry);
  if (isIP(entry) !== 0) return rangeEntry(`${entry}/${isIP(entry) === 4 ? 32 : 128}`, entry);
  const hostPort = /^([^:]+):(\d+)$/.exec(entry);
  if (hostPort) {
    const host = hostPort[1]!;
    if (isIP(host) === 0 && !HOST_NAME.test(host)) return { problem: `"${entry}": ${host} is not a host name` };
    return portEntry(entry, host, hostPort[2]!);
  }
  return {
    problem: `"${entry}" is neither a range (10.1.0.0/16, fd12::/48, 10.1.2.3) nor a host and port (db.internal:5432, [fd12::5]:443)`,
  };
}

function portEntry(entry: string, host: string, portText: string): NetworkAllowEntry | { problem: string } {
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    return { problem: `"${entry}": port ${portText} is not 1-65535` };
  return { kind: 'port', host, port };
}

function rangeEntry(cidr: string, entry = cidr): NetworkAllowEntry | { problem: string } {
  const [address = '', prefixText = '', ...rest] = cidr.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return { problem: `"${entry}": ${address} is not an IP address` };
  const bits = family === 4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > bits)
    return { problem: `"${entry}": /${prefixText} is not a prefix length 0-${bits}` };
  const bytes = addressBytes(address)!;
  const masked = maskBytes(bytes, prefix);
  if (masked.some((byte, index) => byte !== bytes[index]))
    return { problem: `"${entry}" has bits set past /${prefix}: did you mean ${formatBytes(masked)}/${prefix}?` };
  if (isLoopbackAddress(address) && prefix >= (family === 4 ? 8 : 128))
    return {
      problem: `"${entry}" is this machine's loopback, which a networked command reaches only by port: name one (127.0.0.1:8080)`,
    };
  return { kind: 'range', cidr: `${formatBytes(masked)}/${prefix}`, family: family === 4 ? 4 : 6, prefix };
}

/** True for this machine's own addresses as a connection sees them: 127/8, ::1, the unspecified ones, IPv4-mapped loopback. */
export function isLoopbackAddress(address: string): boolean {
  const bytes = addressBytes(address);
  if (!bytes) return false;
  if (bytes.length === 4) return bytes[0] === 127 || bytes.every((byte) => byte === 0);
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytes[12] === 127;
  return bytes.slice(0, 15).every((byte) => byte === 0) && (bytes[15] === 1 || bytes[15] === 0);
}

/** The bytes of an IPv4 (4) or IPv6 (16) address, or null. */
export function addressBytes(address: string): number[] | null {
  const family = isIP(address);
  if (family === 4) return address.split('.').map(Number);
  if (family !== 6) return null;
  let text = address.split('%')[0]!;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    text = `${text.slice(0, dotted.index)}:`;
  }
  const [head = '', rest] = text.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':').filter((word) => word !== ''));
  const before = words(head);
  const after = rest === undefined ? [] : words(rest);
  const missing = 8 - tail.length / 2 - before.length - after.length;
  const all = [...before, ...Array<string>(rest === undefined ? 0 : missing).fill('0'), ...after];
  return [...all.flatMap((word) => [parseInt(word, 16) >> 8, parseInt(word, 16) & 0xff]), ...tail];
}

function maskBytes(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((byte, index) => {
    const keep = Math.max(0, Math.min(8, prefix - index * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

function formatBytes(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const words = Array.from({ length: 8 }, (_, index) =>
    ((bytes[index * 2]! << 8) | bytes[index * 2 + 1]!).toString(16),
  );
  // The longest run of zero words becomes `::` (RFC 5952).
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && words[start + length] === '0') length += 1;
    if (length > best.length && length > 1) best = { start, length };
  }
  if (best.start < 0) return words.join(':');
  return `${words.slice(0, best.start).join(':')}::${words.slice(best.start + best.length).join(':')}`;
}
