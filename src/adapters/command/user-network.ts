import { lookup } from 'node:dns/promises';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNetworkAllowEntry } from '../../domain/network-allow.js';
import type { CommandRequest, CommandResult, CommandRunner } from '../../ports/command-runner.js';
import { systemProgram } from '../system-programs.js';
import {
  NAMESPACE_LINK,
  networkPolicy,
  PROXY_VARIABLES,
  proxyEndpoints,
  resolverSetup,
  type Opening,
} from './network-policy.js';
import { sandboxSupport, userNetworkSupport, type UserNetworkSupport } from './sandbox-support.js';

/** How networked commands get their network; every field has a default from this machine. */
export interface UserNetworkOptions {
  /** Where the proxy variables come from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY...); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Whether pasta and ip are here; default `userNetworkSupport()`. */
  support?: UserNetworkSupport;
}

/** What a networked command's output says when this machine cannot give it a network of its own. */
export const EXIT_NO_USER_NETWORK = 125;

/**
 * Runs a command the way `inner` would, but a networked one (`network: true`) in a network
 * namespace of its own, connected by pasta (user-mode networking as rootless containers use it):
 * outbound connections go out through pasta's sockets on the host, and nothing else. No inbound
 * forwards, the gateway not mapped to the host, the host's loopback not shared (only the ports of
 * `networkAllow:` entries and of a proxy on it are forwarded), DNS answered by pasta. Before the
 * command starts, routing rules make the private, link-local and multicast ranges and the host's
 * own addresses unreachable (exceptions first: `networkAllow:`, a proxy from the environment),
 * set up by the namespace's root, which the command is not: it runs in a user namespace below
 * (bwrap's, or unshare's under `none`), with no capability over this network. Without pasta, a
 * networked command is refused rather than given the host's network.
 */
export async function runWithUserNetwork(
  inner: CommandRunner,
  request: CommandRequest,
  options: UserNetworkOptions = {},
): Promise<CommandResult> {
  if (request.network !== true) return inner.run(request);
  const support = options.support ?? userNetworkSupport();
  if (!support.ok) return refused(support.problem);
  const env = options.env ?? process.env;
  const proxies = proxyEndpoints(env);
  const openings = [
    ...(await allowOpenings(request.networkAllow ?? [])),
    ...(
      await Promise.all(
        proxies.map(async ({ host, port }) =>
          (await addressesOf(host)).map((address): Opening => ({ address, port, protocols: ['tcp'] })),
        ),
      )
    ).flat(),
  ];
  const resolver = resolverSetup(await readFile('/etc/resolv.conf', 'utf8').catch(() => null));
  const policy = networkPolicy({ openings, hostAddresses: hostAddresses(), dnsForward: resolver.forward });
  const proxyEnv = Object.fromEntries(
    PROXY_VARIABLES.flatMap((name) => (env[name] ? [[name, env[name]] as const] : [])),
  );
  const uid = process.getuid?.() ?? 0;
  // The namespace's root is the user running Fanout; commands see that user's own id again.
  const mapUser = uid !== 0 && sandboxSupport().mapCurrentUser ? `${uid}:${process.getgid?.() ?? uid}` : '';
  const pasta = [
    '--config-net',
    '--foreground',
    '--quiet',
    '--tcp-ports',
    'none',
    '--udp-ports',
    'none',
    '--tcp-ns',
    policy.loopbackTcp.join(',') || 'none',
    '--udp-ns',
    policy.loopbackUdp.join(',') || 'none',
    '--no-map-gw',
    '--address',
    NAMESPACE_LINK.address4,
    '--netmask',
    String(NAMESPACE_LINK.prefix4),
    '--gateway',
    NAMESPACE_LINK.gateway4,
    '--address',
    NAMESPACE_LINK.address6,
    '--gateway',
    NAMESPACE_LINK.gateway6,
    ...resolver.forward.flatMap((address) => ['--dns-forward', address]),
    // As root, pasta would switch to nobody, who may not enter the namespace root made.
    ...(uid === 0 ? ['--runas', '0:0'] : []),
  ];
  // The handshake's FIFOs, pasta's errors and the resolv.conf the namespace shows.
  const dir = await mkdtemp(join(tmpdir(), 'fanout-network-'));
  try {
    await writeFile(join(dir, 'resolv.conf'), resolver.text, { mode: 0o644 });
    await writeFile(join(dir, 'pasta.err'), '');
    const argv = [
      systemProgram('bash'),
      '-c',
      OUTER_SCRIPT,
      'fanout-network',
      ...['bash', 'unshare', 'mkfifo', 'cat', 'ip', 'mount'].map((name) => systemProgram(name)),
      support.pasta,
      INNER_SCRIPT,
      dir,
      ...pasta,
      '--',
      policy.rules4,
      policy.rules6,
      mapUser,
      ...request.argv,
    ];
    return await inner.run({ ...request, argv, env: { ...proxyEnv, ...request.env } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function refused(problem: string): CommandResult {
  return {
    exitCode: EXIT_NO_USER_NETWORK,
    signal: null,
    stdout: '',
    stderr: `fanout: this command needs the network, and runs only in a network of its own, which this machine cannot give it: ${problem}.\n`,
    timedOut: false,
    truncated: false,
    durationMs: 0,
  };
}

/** Openings for `networkAllow:` entries; a host name is resolved now, for this command. */
async function allowOpenings(entries: readonly string[]): Promise<Opening[]> {
  const openings = await Promise.all(
    entries.map(async (entry): Promise<Opening[]> => {
      const parsed = parseNetworkAllowEntry(entry);
      if ('problem' in parsed) return [];
      if (parsed.kind === 'range') return [{ cidr: parsed.cidr }];
      return (await addressesOf(parsed.host)).map((address) => ({
        address,
        port: parsed.port,
        protocols: ['tcp', 'udp'],
      }));
    }),
  );
  return openings.flat();
}

/** An address as is; a name's addresses (none when it does not resolve: nothing is opened). */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  try {
    return (await lookup(host, { all: true })).map((answer) => answer.address);
  } catch {
    return [];
  }
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((addresses) =>
    (addresses ?? []).filter((address) => !address.internal).map((address) => address.address),
  );
}

/**
 * On the host: makes the namespace (its root is the user running Fanout), connects pasta to it,
 * waits for the command, and ends pasta. Arguments: the programs bash, unshare, mkfifo, cat, ip,
 * mount and pasta; the namespace script; a private directory (holding resolv.conf and an empty
 * pasta.err); pasta's options up to `--`; the IPv4 and IPv6 rules, the user to map back (uid:gid
 * or empty); then the command. Pasta writes its PID to the `pasta` FIFO once the namespace's
 * network is configured, which is what the namespace waits for. Exit 125: no network was made.
 */
const OUTER_SCRIPT = `set -u
bash=$1 unshare=$2 mkfifo=$3 cat=$4 ip=$5 mount=$6 pasta=$7 inner=$8 dir=$9; shift 9
options=(); while [ "$1" != -- ]; do options+=("$1"); shift; done; shift
rules4=$1 rules6=$2 map=$3; shift 3
"$mkfifo" "$dir/ready" "$dir/pasta" || exit 125
exec 3<>"$dir/ready" 5<"$dir/pasta.err"
# The subshell's own notices ("Killed") are not the command's output: its stderr is /dev/null.
{ "$unshare" --user --map-root-user --net --mount -- "$bash" -c "$inner" fanout-namespace "$dir" "$ip" "$mount" "$unshare" "$rules4" "$rules6" "$map" "$@" 2>&4 4>&- 5<&-; echo "exit $?" >&3; } 4>&2 2>/dev/null &
read -r word pid <&3
if [ "$word" != ready ]; then echo "fanout: could not make a network namespace for this command" >&2; exit 125; fi
"$pasta" "\${options[@]}" --pid "$dir/pasta" "$pid" </dev/null >/dev/null 2>>"$dir/pasta.err" 3>&- 5<&- &
net=$!
wait -n
# Pasta gone while the namespace still lives: it failed (a later pasta may quit on its own once
# the command is over, which is no failure: the command's status follows).
if ! kill -0 "$net" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
  echo "fanout: pasta could not connect this command's network namespace:" >&2
  "$cat" <&5 >&2
  kill -KILL "$pid" 2>/dev/null
  exit 125
fi
read -r word status <&3
kill -KILL "$net" 2>/dev/null
exit "$status"`;

/**
 * In the new user, network and mount namespaces, as their root: waits for pasta, installs the
 * routing rules, shows pasta's resolver as /etc/resolv.conf, then runs the command in a user
 * namespace below (mapped back to the user's own id when that is not root), so that the command
 * holds no capability over this network namespace and cannot change its rules.
 */
const INNER_SCRIPT = `set -u
dir=$1 ip=$2 mount=$3 unshare=$4 rules4=$5 rules6=$6 map=$7; shift 7
echo "ready $$" >&3; exec 3>&-
read -r _ < "$dir/pasta"
fail() { echo "fanout: $1" >&2; exit 125; }
printf '%s' "$rules4" | "$ip" -4 -batch - || fail "could not close the private ranges to this command (ip rule)"
if [ -n "$rules6" ] && [ -d /proc/sys/net/ipv6 ]; then
  printf '%s' "$rules6" | "$ip" -6 -batch - || fail "could not close the private IPv6 ranges to this command (ip rule)"
fi
if [ -e /etc/resolv.conf ]; then "$mount" --bind "$dir/resolv.conf" /etc/resolv.conf || fail "could not show the resolver"; fi
if [ -n "$map" ]; then exec "$unshare" --user --map-user="\${map%:*}" --map-group="\${map#*:}" -- "$@"; fi
exec "$@"`;
