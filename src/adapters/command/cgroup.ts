import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where this process can make a cgroup per command: cgroup v2 with both controllers in one
 * directory, or cgroup v1's pids and memory hierarchies (either may be missing: that one limit
 * then falls back to an rlimit).
 */
export type CgroupPlacement = { version: 2; parent: string } | { version: 1; pids?: string; memory?: string };

/** What a process's cgroup files say: its path per hierarchy and the cgroup mounts. */
export interface CgroupFacts {
  /** `/proc/self/cgroup`. */
  membership: string;
  /** `/proc/self/mountinfo`. */
  mountinfo: string;
}

// cgroupfs answers from kernel memory: a synchronous call costs microseconds, less than a trip
// through libuv's thread pool, and per command only a handful are made.

/** This process's cgroup directory per v1 controller and for v2 (`unified`), from its facts (pure). */
export function cgroupDirectories(facts: CgroupFacts): { unified?: string; pids?: string; memory?: string } {
  const paths = new Map<string, string>();
  for (const line of facts.membership.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, controllers = '', path = '/'] = match;
    if (controllers === '') paths.set('unified', path);
    for (const controller of controllers.split(',')) if (controller) paths.set(controller, path);
  }
  const found: { unified?: string; pids?: string; memory?: string } = {};
  for (const line of facts.mountinfo.split('\n')) {
    const [mountFields, superFields] = line.split(' - ');
    if (!mountFields || !superFields) continue;
    const [, , , root = '/', mountPoint = ''] = mountFields.split(' ');
    const [fsType, , options = ''] = superFields.split(' ');
    const keys =
      fsType === 'cgroup2'
        ? (['unified'] as const)
        : fsType === 'cgroup'
          ? (['pids', 'memory'] as const).filter((name) => options.split(',').includes(name))
          : [];
    for (const key of keys) {
      const own = paths.get(key);
      const relative = own === undefined ? undefined : below(own, unescapeMount(root));
      if (relative !== undefined)
        found[key] ??= relative === '/' ? unescapeMount(mountPoint) : join(unescapeMount(mountPoint), relative);
    }
  }
  return found;
}

/** Finds where command cgroups can go on this machine, trying each candidate for real; null: nowhere. */
export function findCgroupPlacement(
  facts: CgroupFacts = {
    membership: readFileSync('/proc/self/cgroup', 'utf8'),
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
  },
): CgroupPlacement | null {
  const dirs = cgroupDirectories(facts);
  if (dirs.unified) {
    const parent = delegatedV2Parent(dirs.unified);
    if (parent) return { version: 2, parent };
  }
  const pids =
    dirs.pids && usable(dirs.pids, (dir) => writeFileSync(join(dir, 'pids.max'), '64')) ? dirs.pids : undefined;
  const memory =
    dirs.memory && usable(dirs.memory, (dir) => writeFileSync(join(dir, 'memory.limit_in_bytes'), String(64 << 20)))
      ? dirs.memory
      : undefined;
  if (pids || memory) return { version: 1, ...(pids ? { pids } : {}), ...(memory ? { memory } : {}) };
  return null;
}

const V2_CONTROLLERS = ['pids', 'memory'];

/**
 * A v2 directory where pids and memory can be enabled for children: the parent of this process's
 * cgroup when someone already delegated it so (Fanout in a leaf beside its commands), or this
 * process's own cgroup when it is writable and holds nothing but Fanout and its children: they
 * move into a leaf of their own first (no cgroup may hold processes and enabled controllers).
 */
function delegatedV2Parent(own: string): string | null {
  const parent = join(own, '..');
  if (own !== '/' && hasAll(parent, 'cgroup.subtree_control') && usable(parent, limitV2)) return parent;
  if (!hasAll(own, 'cgroup.controllers')) return null;
  if (!hasAll(own, 'cgroup.subtree_control')) {
    const members = readNumbers(join(own, 'cgroup.procs'));
    if (!members.every(isFanoutsOwn)) return null;
    try {
      const leaf = join(own, `fanout-main-${process.pid}`);
      mkdirSync(leaf, { recursive: true });
      for (const pid of members) writeFileSync(join(leaf, 'cgroup.procs'), String(pid));
      writeFileSync(join(own, 'cgroup.subtree_control'), V2_CONTROLLERS.map((name) => `+${name}`).join(' '));
    } catch {
      return null;
    }
  }
  return usable(own, limitV2) ? own : null;
}

function limitV2(dir: string): void {
  writeFileSync(join(dir, 'pids.max'), '64');
  writeFileSync(join(dir, 'memory.max'), String(64 << 20));
}

function hasAll(dir: string, file: string): boolean {
  try {
    const listed = readFileSync(join(dir, file), 'utf8').split(/\s+/);
    return V2_CONTROLLERS.every((name) => listed.includes(name));
  } catch {
    return false;
  }
}

/** Whether a child cgroup can be made under `dir` and limited; removes the probe, and leftovers of dead Fanout processes. */
function usable(dir: string, limit: (dir: string) => void): boolean {
  removeStale(dir);
  const probe = join(dir, `fanout-${process.pid}-probe`);
  try {
    mkdirSync(probe);
  } catch {
    return false;
  }
  try {
    limit(probe);
    return true;
  } catch {
    return false;
  } finally {
    rmdirQuietly(probe);
  }
}

/** Empty command cgroups a killed Fanout process left behind. */
function removeStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = /^fanout-(?:main-)?(\d+)(?:-\w+)?$/.exec(name)?.[1];
    if (owner && !alive(Number(owner))) rmdirQuietly(join(dir, name));
  }
}

/** One command's cgroups: created with its limits, joined by the command's wrapper before it runs anything. */
export class CommandCgroup {
  private constructor(
    private readonly version: 1 | 2,
    private readonly dirs: { pids?: string; memory?: string },
  ) {}

  /** Makes the command's cgroups and sets their limits. */
  static create(
    placement: CgroupPlacement,
    name: string,
    limits: { processes: number; memory: number },
  ): CommandCgroup {
    const dirs: { pids?: string; memory?: string } =
      placement.version === 2
        ? { pids: join(placement.parent, name), memory: join(placement.parent, name) }
        : {
            ...(placement.pids ? { pids: join(placement.pids, name) } : {}),
            ...(placement.memory ? { memory: join(placement.memory, name) } : {}),
          };
    const cgroup = new CommandCgroup(placement.version, dirs);
    try {
      for (const dir of new Set(Object.values(dirs))) mkdirSync(dir);
      if (dirs.pids) writeFileSync(join(dirs.pids, 'pids.max'), String(limits.processes));
      if (dirs.memory) cgroup.limitMemory(dirs.memory, limits.memory);
    } catch (error) {
      cgroup.removeDirectories();
      throw new Error(`cannot make the command's cgroup: ${(error as Error).message}`, { cause: error });
    }
    return cgroup;
  }

  /**
   * The files the command's shell writes `0` (itself) into before it starts anything. In v1, its
   * one thread goes through `tasks`: moving only the writing thread skips the global lock a
   * `cgroup.procs` move takes, whose RCU grace period cost each command milliseconds (v2 has no
   * such file; there `cgroup.procs` it is).
   */
  get joinFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((dir) =>
      join(dir, this.version === 1 ? 'tasks' : 'cgroup.procs'),
    );
  }

  /** Whether a fork failed at the process limit, and whether the OOM killer ran at the memory limit. */
  events(): { processes: boolean; memory: boolean } {
    const processes = this.dirs.pids ? counter(join(this.dirs.pids, 'pids.events'), 'max') > 0 : false;
    const memoryFile = this.version === 2 ? 'memory.events' : 'memory.oom_control';
    const memory = this.dirs.memory ? counter(join(this.dirs.memory, memoryFile), 'oom_kill') > 0 : false;
    return { processes, memory };
  }

  /** Kills every process in the cgroup (a fork bomb included: its forks fail at the limit) and waits until none is left. */
  async killAll(): Promise<void> {
    const dir = this.dirs.pids ?? this.dirs.memory;
    if (!dir) return;
    if (this.version === 2 && existsSync(join(dir, 'cgroup.kill'))) {
      try {
        writeFileSync(join(dir, 'cgroup.kill'), '1');
      } catch {
        // Gone already.
      }
    }
    for (let round = 0; round < KILL_ROUNDS; round += 1) {
      const members = readNumbers(join(dir, 'cgroup.procs'));
      if (members.length === 0) return;
      for (const pid of members) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // It exited meanwhile.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, round < 5 ? 1 : 20));
    }
  }

  /**
   * Kills what is left at once (the signals are sent before this returns: nothing of the command
   * runs on) and, in the background, waits for it to be gone and removes the cgroups: a sandbox's
   * processes take milliseconds to exit, which no command should wait for.
   */
  dispose(): void {
    void this.killAll().then(() => {
      if (this.removeDirectories()) return;
      // A process stuck in the kernel, or one not yet reaped.
      let tries = 0;
      const retry = setInterval(() => {
        tries += 1;
        if (this.removeDirectories() || tries >= 50) clearInterval(retry);
      }, 200);
      retry.unref();
    });
  }

  private limitMemory(dir: string, bytes: number): void {
    if (this.version === 2) {
      writeFileSync(join(dir, 'memory.max'), String(bytes));
      // No swap to hide in, and an OOM ends the whole command at once.
      writeIfPresent(join(dir, 'memory.swap.max'), '0');
      writeIfPresent(join(dir, 'memory.oom.group'), '1');
      return;
    }
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
    writeIfPresent(join(dir, 'memory.memsw.limit_in_bytes'), String(bytes));
  }

  private removeDirectories(): boolean {
    let removed = true;
    for (const dir of new Set(Object.values(this.dirs))) if (!rmdirQuietly(dir)) removed = false;
    return removed;
  }
}

const KILL_ROUNDS = 100;

function counter(file: string, key: string): number {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${key} `));
    return line ? Number(line.slice(key.length + 1)) : 0;
  } catch {
    return 0;
  }
}

function readNumbers(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function writeIfPresent(file: string, value: string): void {
  if (existsSync(file)) writeFileSync(file, value);
}

/** True when removed or already gone. */
function rmdirQuietly(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fanout itself or a process it started (the git helper): safe to move into Fanout's own leaf cgroup. */
function isFanoutsOwn(pid: number): boolean {
  for (let current = pid, depth = 0; current > 1 && depth < 32; depth += 1) {
    if (current === process.pid) return true;
    try {
      // The parent pid is the 2nd field after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** The part of `path` below `root`, or undefined when it is not below it. */
function below(path: string, root: string): string | undefined {
  if (root === '/') return path;
  if (path === root) return '/';
  return path.startsWith(`${root}/`) ? path.slice(root.length) : undefined;
}

/** mountinfo escapes spaces, tabs, newlines and backslashes as octal. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
