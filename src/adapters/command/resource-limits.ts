import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { RESOURCE_LIMIT_DEFAULTS, type ResourceLimitKind, type ResourceLimits } from '../../domain/resource-limits.js';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';
import { CommandCgroup, findCgroupPlacement, type CgroupPlacement } from './cgroup.js';
import type { ProcessCommandRunner } from './process-runner.js';
import { DISK_POLL_MS, DiskQuotas } from './disk-quota.js';

/** How this machine bounds a command's processes and memory (file size and disk are bounded the same way everywhere). */
export interface LimitsSupport {
  /** Where command cgroups go; null: rlimits only. */
  cgroups: CgroupPlacement | null;
  /** Fanout's user: RLIMIT_NPROC binds everyone but root. */
  root: boolean;
}

let cached: LimitsSupport | undefined;

/** Looks once per process where command cgroups can go (a few writes in cgroupfs). */
export function limitsSupport(): LimitsSupport {
  cached ??= { cgroups: findCgroupPlacement(), root: process.getuid?.() === 0 };
  return cached;
}

/** What bounds each resource, in words for the run record and reports: `cgroup v1 (pids, memory), ...`. */
export function describeLimits(support: LimitsSupport): string {
  const cgroups = support.cgroups;
  const inCgroup = (controller: 'pids' | 'memory') =>
    cgroups !== null && (cgroups.version === 2 || cgroups[controller] !== undefined);
  const parts: string[] = [];
  const controllers = (['pids', 'memory'] as const).filter(inCgroup);
  if (cgroups && controllers.length > 0) parts.push(`cgroup v${cgroups.version} (${controllers.join(', ')})`);
  if (!inCgroup('memory')) parts.push('memory: RLIMIT_DATA per process');
  if (!inCgroup('pids'))
    parts.push(
      support.root
        ? 'process count not enforceable as root without cgroups'
        : "processes: RLIMIT_NPROC (counts all of Fanout's user's processes)",
    );
  parts.push('file size: RLIMIT_FSIZE', 'disk: quota watcher');
  return parts.join('; ');
}

/**
 * The spawning shell's prelude (see `Prelude`): joins the command's cgroups (the shell moves
 * itself, before anything can fork, so no process escapes them), then sets the rlimits, soft and
 * hard. Arguments: a count and the cgroups' join files; a count and (flag, value) pairs for `ulimit`.
 */
const LIMIT_SCRIPT = `set +o posix
n=$1; shift
while [ "$n" -gt 0 ]; do echo 0 > "$1" || { echo "fanout: cannot enter the command's cgroup" >&2; exit 125; }; shift; n=$((n-1)); done
n=$1; shift
while [ "$n" -gt 0 ]; do ulimit "$1" "$2" || { echo "fanout: cannot set limit $1" >&2; exit 125; }; shift 2; n=$((n-1)); done`;

const OPEN_FILES = 65_536;
// Killed by SIGXFSZ: the signal itself, or a shell's (bwrap's, unshare's) report of it as 128 + signal.
const SIGXFSZ = constants.signals.SIGXFSZ;

/**
 * Runs every command under resource limits, set by the spawning shell before it execs the command
 * (bubblewrap and the namespace runner wrap this one, so the limits hold from their first process on). Processes and
 * memory: a cgroup per command where the machine allows (v2, else v1), else rlimits; file size:
 * RLIMIT_FSIZE; disk: the worktree and private HOME watched (`DiskQuotas`). A command that hits a
 * limit is stopped at once, everything it started with it, and its result names the limit from the
 * kernel's own counts (`pids.events`, the OOM kill count, SIGXFSZ) or the watcher.
 */
export class LimitedCommandRunner implements CommandRunner {
  /** With a cgroup per command, whatever is left in it when the command ends is killed. */
  readonly confinesProcesses: boolean;
  private readonly quotas = new DiskQuotas();
  private readonly defaults: ResourceLimits;

  constructor(
    private readonly inner: ProcessCommandRunner,
    private readonly support: LimitsSupport = limitsSupport(),
    defaults?: ResourceLimits,
  ) {
    this.confinesProcesses = inner.confinesProcesses || support.cgroups !== null;
    this.defaults = defaults ?? { ...RESOURCE_LIMIT_DEFAULTS };
  }

  /** How this runner bounds commands, in words (see `describeLimits`). */
  describe(): string {
    return describeLimits(this.support);
  }

  async privateHome(): Promise<PrivateHome> {
    const home = await this.inner.privateHome();
    return {
      path: home.path,
      dispose: async () => {
        this.quotas.forget(home.path);
        await home.dispose();
      },
    };
  }

  async run(request: CommandRequest): Promise<CommandResult> {
    const limits = request.limits ?? this.defaults;
    const cgroup = this.support.cgroups
      ? CommandCgroup.create(this.support.cgroups, `fanout-${process.pid}-${randomBytes(6).toString('hex')}`, limits)
      : null;
    try {
      const roots = [request.cwd, ...(request.env?.HOME ? [request.env.HOME] : [])];
      const disk = await this.quotas.watch(roots, limits.disk);
      const stop = new AbortController();
      let hit: ResourceLimitKind | undefined;
      const stopFor = (kind: ResourceLimitKind) => {
        if (hit) return;
        hit = kind;
        stop.abort();
        void cgroup?.killAll();
      };
      const look = () => {
        const events = cgroup?.events();
        if (events?.processes) stopFor('processes');
        else if (events?.memory) stopFor('memory');
        void disk.check().then((over) => over && stopFor('disk'));
      };
      const watcher = setInterval(look, DISK_POLL_MS);
      watcher.unref();
      let result: CommandResult;
      try {
        result = await this.inner.runWith(
          { ...request, signal: request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal },
          { script: LIMIT_SCRIPT, args: this.preludeArguments(cgroup, limits) },
        );
      } finally {
        clearInterval(watcher);
      }
      const events = cgroup?.events();
      const killedBySize = result.signal === 'SIGXFSZ' || result.exitCode === 128 + SIGXFSZ;
      hit ??= events?.processes
        ? 'processes'
        : events?.memory
          ? 'memory'
          : killedBySize
            ? 'file-size'
            : (await disk.check())
              ? 'disk'
              : undefined;
      return hit ? { ...result, limitExceeded: hit } : result;
    } finally {
      cgroup?.dispose();
    }
  }

  /** The prelude's arguments: the cgroup files to join, then the rlimits (clamped to Fanout's own hard limits). */
  private preludeArguments(cgroup: CommandCgroup | null, limits: ResourceLimits): string[] {
    const inCgroup = (controller: 'pids' | 'memory') => {
      const placement = this.support.cgroups;
      return placement !== null && (placement.version === 2 || placement[controller] !== undefined);
    };
    const hard = hardLimits();
    const rlimits: Array<[flag: string, value: number, unit: number, name: string]> = [
      ['-f', limits.fileSize, 1024, 'Max file size'],
      ['-c', 0, 1024, 'Max core file size'],
      ['-n', OPEN_FILES, 1, 'Max open files'],
      ...(inCgroup('memory') ? [] : [['-d', limits.memory, 1024, 'Max data size'] as [string, number, number, string]]),
      // Root is never held to RLIMIT_NPROC (not even in a user namespace): only a cgroup bounds it.
      ...(inCgroup('pids') || this.support.root
        ? []
        : [['-u', limits.processes, 1, 'Max processes'] as [string, number, number, string]]),
    ];
    const files = cgroup?.joinFiles ?? [];
    return [
      String(files.length),
      ...files,
      String(rlimits.length),
      ...rlimits.flatMap(([flag, value, unit, name]) => [
        flag,
        String(Math.floor(Math.min(value, hard.get(name) ?? Infinity) / unit)),
      ]),
    ];
  }
}

let hardCached: Map<string, number> | undefined;

/** Fanout's own hard rlimits (`/proc/self/limits`), in the kernel's units: a command's may not exceed them. */
function hardLimits(): Map<string, number> {
  if (hardCached) return hardCached;
  hardCached = new Map();
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n')) {
      const match = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      if (match && match[3] !== 'unlimited') hardCached.set(match[1]!, Number(match[3]));
    }
  } catch {
    // Not Linux: nothing known, nothing clamped.
  }
  return hardCached;
}
