import { accessSync, constants, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * What commands see of /etc: what git, node, npm, python, java, perl and bash read there (tested
 * in the sandboxes), nothing else. Left out on purpose: files that hold credentials or site
 * configuration (gitconfig, pip.conf, npmrc, wgetrc, environment, maven's settings.xml, ssh,
 * shadow), and everything an administrator or Fanout's own deployment may put there.
 * A trailing `*` matches the start of a name (`python3.*`: Debian's python3.11 conffiles).
 */
export const ETC_ALLOW_LIST: readonly string[] = [
  // Users, groups and the name service: id, ls -l, ssh, git's default identity, getaddrinfo.
  'passwd',
  'group',
  'nsswitch.conf',
  'host.conf',
  'hosts',
  'resolv.conf',
  'gai.conf',
  'services',
  'protocols',
  'networks',
  // Trusted roots (openssl, python, git over https, curl); /etc/ssl/private stays hidden.
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'pki',
  'crypto-policies',
  // The dynamic linker's cache and search paths.
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  // Debian's alternatives: many /usr/bin links (java, editor, awk...) go through it.
  'alternatives',
  // Time, locale, file types, terminal descriptions, which system this is.
  'localtime',
  'timezone',
  'locale.alias',
  'locale.conf',
  'mime.types',
  'magic',
  'magic.mime',
  'terminfo',
  'fonts',
  'os-release',
  'debian_version',
  'lsb-release',
  'shells',
  'mtab',
  // Language runtimes whose packaged files live here (Debian's python sitecustomize, java.security, perl).
  'python3',
  'python3.*',
  'java-*',
  'perl',
];

/** The allow-listed entries that exist under `etc`, as absolute paths, sorted. */
export function etcEntries(etc = '/etc', allowList: readonly string[] = ETC_ALLOW_LIST): string[] {
  let names: string[];
  try {
    names = readdirSync(etc);
  } catch {
    return [];
  }
  const allowed = (name: string) =>
    allowList.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry));
  return names
    .filter(allowed)
    .sort()
    .map((name) => join(etc, name));
}

/** A symlink among the entries: whether its target lies outside `etc` (kept as a link) or inside (its content shown). */
export function linkLeavesEtc(path: string, etc = '/etc'): boolean {
  const target = resolve(dirname(path), readlinkSync(path));
  return !isInside(target, etc);
}

/**
 * What to copy of the entries into a private /etc (`FANOUT_SANDBOX=none`), relative to `etc`: a
 * directory holding a hidden or unreadable path is replaced by its other children, so that
 * /etc/ssl/private (and anything this user cannot read) is never copied.
 */
export function etcCopies(entries: readonly string[], hidden: readonly string[], etc = '/etc'): string[] {
  const out: string[] = [];
  const visit = (path: string) => {
    if (hidden.some((other) => isInside(path, other))) return;
    const info = lstatSync(path, { throwIfNoEntry: false });
    if (!info) return;
    if (info.isSymbolicLink()) {
      out.push(path);
      return;
    }
    if (!info.isDirectory()) {
      if (readable(path, constants.R_OK)) out.push(path);
      return;
    }
    if (!readable(path, constants.R_OK | constants.X_OK)) return;
    const children = readdirSync(path).map((name) => join(path, name));
    if (children.every((child) => copyableWhole(child, hidden))) out.push(path);
    else children.forEach(visit);
  };
  entries.forEach(visit);
  return out.map((path) => path.slice(etc.length + 1));
}

/** Whether a path and everything under it can be copied as it is (nothing hidden, all readable). */
function copyableWhole(path: string, hidden: readonly string[]): boolean {
  if (hidden.some((other) => isInside(other, path))) return false;
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info || info.isSymbolicLink()) return true;
  if (!info.isDirectory()) return readable(path, constants.R_OK);
  if (!readable(path, constants.R_OK | constants.X_OK)) return false;
  return readdirSync(path).every((name) => copyableWhole(join(path, name), hidden));
}

function readable(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
}
