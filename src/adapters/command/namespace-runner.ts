import { accessSync, constants, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemProgram } from '../system-programs.js';
import { etcCopies, etcEntries, linkLeavesEtc } from './etc-allow-list.js';
import { GitConfigCopies } from './git-config-copy.js';
import { PARTLY_SHOWN_PATHS, SYSTEM_PATHS } from './system-paths.js';
import { runWithUserNetwork, type UserNetworkOptions } from './user-network.js';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';

export interface NamespaceRunnerOptions {
  /** util-linux 2.38 maps the current user; older ones appear as root in the namespace. */
  mapCurrentUser: boolean;
  /**
   * Host paths each command does not see (none given: nothing is hidden, not even the checkout) (an empty tmpfs, or /dev/null for a file, in its own
   * mount namespace): the user's home, Fanout's state, credential files. The checkout a command's
   * worktree belongs to is hidden too. What the command needs inside them (its worktree, its HOME,
   * the git directories, tool installations) is shown again at the same path.
   */
  hiddenPaths?: readonly string[];
  /** Tool installations (nvm's node...) shown again read-only when a hidden path holds them. */
  toolPaths?: readonly string[];
  /**
   * What of /etc commands see when anything is hidden (default: the allow-listed entries of this
   * machine's /etc); the rest of /etc, and of /opt all but the tools, is covered.
   */
  etcPaths?: readonly string[];
  /** How networked commands get their own network (defaults from this machine). */
  network?: UserNetworkOptions;
}

// Never covered: the command would lose its programs and libraries.
const NEVER_HIDDEN = new Set(['/', ...SYSTEM_PATHS, '/proc', '/dev', '/sys']);

// A private /tmp is a working directory: room to work in, as bubblewrap's is.
const TMP_COVER_SIZE = '2g';
// The private /etc holds copies of what tools need (the linker cache, CA bundles).
const ETC_COVER_SIZE = '64m';

/**
 * Runs in the new namespaces, as their root, before every capability is dropped: opens what must
 * stay visible, covers the hidden paths, copies what tools need of /etc into its private /etc
 * (one process, where a bind each would cost a mount each), binds the kept ones back from the open
 * descriptors (their old paths are covered by then), then covers what is hidden inside those.
 * Arguments: the mount, mkdir, touch and cp programs; a count and the hidden paths; a count and
 * (mode, source, target) triples to bind; a count and the paths to copy, relative to /etc; a
 * count and the paths hidden last; then the command.
 */
const HIDE_SCRIPT = `set -eu
mount=$1 mkdir=$2 touch=$3 cp=$4; shift 4
n=$1; shift; hidden=(); while [ "$n" -gt 0 ]; do hidden+=("$1"); shift; n=$((n-1)); done
n=$1; shift; binds=(); fd=3
while [ "$n" -gt 0 ]; do
  if [ -e "$2" ]; then eval "exec $fd<\"\\$2\""; binds+=("$fd" "$1" "$3"); fd=$((fd+1)); fi
  shift 3; n=$((n-1))
done
n=$1; shift; copies=(); while [ "$n" -gt 0 ]; do copies+=("$1"); shift; n=$((n-1)); done
etc=$fd; eval "exec $etc</etc"
n=$1; shift; late=(); while [ "$n" -gt 0 ]; do late+=("$1"); shift; n=$((n-1)); done
hide() {
  if [ "$1" = /tmp ]; then "$mount" -t tmpfs -o mode=1777,size=${TMP_COVER_SIZE} fanout-tmp /tmp
  elif [ "$1" = /etc ]; then "$mount" -t tmpfs -o mode=0755,size=${ETC_COVER_SIZE} fanout-etc /etc
  elif [ -d "$1" ]; then "$mount" -t tmpfs -o mode=0755,size=1m fanout-hidden "$1"
  elif [ -e "$1" ]; then "$mount" --bind /dev/null "$1"; fi
}
for path in "\${hidden[@]}"; do hide "$path"; done
if [ "\${#copies[@]}" -gt 0 ]; then
  (cd "/proc/self/fd/$etc" && "$cp" -R -P --preserve=mode,timestamps --parents -- "\${copies[@]}" /etc/)
fi
eval "exec $etc<&-"
i=0
while [ "$i" -lt "\${#binds[@]}" ]; do
  fd=\${binds[$i]} mode=\${binds[$((i+1))]} target=\${binds[$((i+2))]}
  if [ -d "/proc/self/fd/$fd" ]; then "$mkdir" -p "$target"
  elif [ ! -e "$target" ]; then "$mkdir" -p "\${target%/*}"; "$touch" "$target"; fi
  if [ "$mode" = ro ]; then "$mount" --no-canonicalize --rbind -o ro "/proc/self/fd/$fd" "$target"
  else "$mount" --no-canonicalize --rbind "/proc/self/fd/$fd" "$target"; fi
  eval "exec $fd<&-"
  i=$((i+3))
done
for path in "\${late[@]}"; do hide "$path"; done
cd "$PWD"
exec "$@"`;

/**
 * `FANOUT_SANDBOX=none`: each command runs in its own user, PID, mount and network namespace
 * (`network: true`: outbound only, `runWithUserNetwork`), a fresh /proc, no capabilities. It cannot see
 * Fanout's process (or any other) to read secrets from `/proc/<pid>/environ` or `ps e`;
 * everything it starts, `setsid` and `nohup` included, dies with it; and the user's home, the
 * checkout, Fanout's state and own files and /opt are covered, /etc replaced by a private copy
 * of what tools need (its worktree, HOME, git directories and tools shown again). Unlike
 * bubblewrap, the rest of the file system stays visible and as writable as it is for the user
 * running Fanout.
 */
export class NamespaceCommandRunner implements CommandRunner {
  /** Each command is the first process of its own PID namespace (`--kill-child`): everything it started ends with it. */
  readonly confinesProcesses = true;
  private readonly configCopies = new GitConfigCopies();
  private etcShown: EtcView | undefined;

  constructor(
    private readonly inner: CommandRunner,
    private readonly options: NamespaceRunnerOptions,
  ) {}

  /** Worked out once: /etc's allow-listed entries rarely change while Fanout runs (their content is copied fresh). */
  private get etc(): EtcView {
    this.etcShown ??= etcView(this.options.etcPaths ?? etcEntries(), this.options.hiddenPaths ?? []);
    return this.etcShown;
  }

  privateHome(): Promise<PrivateHome> {
    return this.inner.privateHome();
  }

  async run(request: CommandRequest): Promise<CommandResult> {
    const prefix = namespacePrefix(
      this.options.mapCurrentUser,
      request.network === true,
      (this.options.hiddenPaths?.length ?? 0) > 0,
    );
    const configCopy =
      request.git && (this.options.hiddenPaths?.length ?? 0) > 0
        ? await this.configCopies.copyFor(request.git.commonDir)
        : undefined;
    const packedRefs = configCopy && request.git ? await this.configCopies.packedRefsFor(request.git.commonDir) : null;
    const hiding = hideArguments(request, this.options, () => this.etc, configCopy, packedRefs);
    const split = prefix.indexOf(systemProgram('setpriv'));
    const argv =
      hiding.length === 0
        ? [...prefix, ...request.argv]
        : [
            ...prefix.slice(0, split),
            systemProgram('bash'),
            '-c',
            HIDE_SCRIPT,
            'fanout-hide',
            ...hiding,
            ...prefix.slice(split),
            ...request.argv,
          ];
    return runWithUserNetwork(this.inner, { ...request, argv }, this.options.network);
  }
}

/** What of /etc a command sees under `none`: entries copied into its private /etc, links into /etc bound. */
interface EtcView {
  copies: string[];
  links: string[];
}

/** The allow-listed /etc entries split into copies (around hidden and unreadable paths) and links into /etc itself. */
function etcView(entries: readonly string[], hidden: readonly string[]): EtcView {
  const isLinkIntoEtc = (path: string) => lstatSync(path).isSymbolicLink() && !linkLeavesEtc(path);
  const present = entries.filter((path) => lstatSync(path, { throwIfNoEntry: false }));
  return {
    copies: etcCopies(
      present.filter((path) => !isLinkIntoEtc(path)),
      hidden.map((path) => resolve(path)),
    ),
    links: present.filter(isLinkIntoEtc),
  };
}

/** The hide script's arguments for one command; empty when nothing is hidden. */
function hideArguments(
  request: CommandRequest,
  options: NamespaceRunnerOptions,
  etcShown: () => EtcView,
  configCopy: string | undefined,
  packedRefs: string | null,
): string[] {
  const inside = (path: string, root: string) =>
    path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);
  if ((options.hiddenPaths ?? []).length === 0) return [];
  // The checkout the common dir belongs to (a superproject's, for a submodule's modules/ dir).
  const checkout = request.git ? checkoutOf(resolve(request.git.commonDir)) : [];
  // A path this user cannot read (/etc/shadow, unless Fanout runs as root) is no secret to its commands either.
  const candidates = [
    ...new Set([...(options.hiddenPaths ?? []), ...checkout, ...PARTLY_SHOWN_PATHS].map((path) => resolve(path))),
  ]
    .filter((path) => !NEVER_HIDDEN.has(path) && readable(path))
    .sort();
  // A path inside one already hidden is covered with it.
  const hidden = candidates.filter((path) => !candidates.some((other) => other !== path && inside(path, other)));
  if (hidden.length === 0) return [];
  const covered = (path: string) => hidden.some((root) => inside(path, root));
  // As in bubblewrap: the worktree and HOME writable; the git directories read-only, the shared
  // config a sanitized copy; tools read-only. Parents before children.
  const shown: Array<[string, string, string]> = [
    ...[request.cwd, request.env?.HOME]
      .filter((path): path is string => path !== undefined)
      .map((path): [string, string, string] => ['rw', resolve(path), resolve(path)]),
    ...[request.git?.commonDir, request.git?.gitDir]
      .filter((path): path is string => path !== undefined)
      .map((path): [string, string, string] => ['ro', resolve(path), resolve(path)]),
    ...[...(options.toolPaths ?? []), ...(request.toolPaths ?? [])].map((path): [string, string, string] => [
      'ro',
      resolve(path),
      resolve(path),
    ]),
    // The git directories are always read-only, hidden or not (a `--separate-git-dir` elsewhere).
  ].filter(([mode, , target]) => covered(target) || mode === 'ro');
  // Parents before children; a read-only path inside another shown one comes with it (the
  // worktree's git dir inside the common dir), each mount being a process of its own.
  const binds = shown
    .filter(
      ([mode, , target]) =>
        !(
          mode === 'ro' &&
          shown.some(([otherMode, , other]) => otherMode === 'ro' && other !== target && inside(target, other))
        ),
    )
    .sort((a, b) => a[2].length - b[2].length);
  // What is hidden inside a path shown again is covered after it (Fanout's files beside a tool).
  const late = candidates.filter(
    (path) => !hidden.includes(path) && binds.some(([, , target]) => inside(path, target)),
  );
  const etc = hidden.includes('/etc') ? etcShown() : { copies: [], links: [] };
  // NixOS-style entries (/etc/ssl -> /etc/static/ssl) show their content, read-only.
  binds.push(...etc.links.map((path): [string, string, string] => ['ro', path, path]));
  if (request.git && configCopy) {
    const common = resolve(request.git.commonDir);
    binds.push(['ro', configCopy, `${common}/config`]);
    if (packedRefs) binds.push(['ro', packedRefs, `${common}/packed-refs`]);
    // Other repositories' git dirs (submodules), reflogs and stashes (which keep untracked files such as .env).
    late.push(`${common}/modules`, `${common}/logs`, `${common}/refs/stash`);
  }
  const copies = etc.copies;
  return [
    systemProgram('mount'),
    systemProgram('mkdir'),
    systemProgram('touch'),
    systemProgram('cp'),
    String(hidden.length),
    ...hidden,
    String(binds.length),
    ...binds.flat(),
    String(copies.length),
    ...copies,
    String(late.length),
    ...late,
  ];
}

/** The work tree a common git dir belongs to: `<checkout>/.git`, or `<super>/.git/modules/<name>` of a submodule. */
function checkoutOf(commonDir: string): string[] {
  const match = /^(.*?)\/\.git(\/modules\/.*)?$/.exec(commonDir);
  return match?.[1] ? [match[1]] : [];
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `unshare` + `setpriv` arguments that isolate a command (its own network namespace, with only a
 * loopback, unless it may use the network); `mapCurrentUser` needs util-linux 2.38 (else it appears as root).
 */
export function namespacePrefix(mapCurrentUser: boolean, network = false, keepCaps = false): string[] {
  return [
    systemProgram('unshare'),
    '--user',
    mapCurrentUser ? '--map-current-user' : '--map-root-user',
    // A user mapped as itself (not 0) loses its namespace capabilities when unshare execs: the
    // hide script needs them to mount; setpriv drops them all before the command.
    ...(keepCaps && mapCurrentUser ? ['--keep-caps'] : []),
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    ...(network ? [] : ['--net']),
    // The new namespace's root could unmount the fresh /proc and see the host's: drop every capability first.
    systemProgram('setpriv'),
    '--no-new-privs',
    '--bounding-set=-all',
    '--inh-caps=-all',
    '--',
  ];
}
