/** The resources each agent, setup and validation command is bounded in. */
export type ResourceLimitKind = 'processes' | 'memory' | 'disk' | 'file-size';

/** The limits one command runs under (`limits:` in .github/fanout.yml); sizes in bytes. */
export interface ResourceLimits {
  /** Processes and threads the command may have at once. */
  processes: number;
  /** Memory of all its processes together (with its private /tmp, which is memory). */
  memory: number;
  /** The largest file any of its processes may write. */
  fileSize: number;
  /** How much its worktree and private HOME may grow (what commands wrote since the first of them). */
  disk: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Sane for real builds (a parallel compile, a browser test), small enough that one runaway command cannot take the machine. */
export const RESOURCE_LIMIT_DEFAULTS: Readonly<ResourceLimits> = {
  processes: 512,
  memory: 4 * GiB,
  fileSize: 1 * GiB,
  disk: 5 * GiB,
};

/** A byte count as people read it: `4 GiB`, `200 MiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** The limit a command hit, in words, with its value: `the memory limit (4 GiB)`. */
export function describeLimitHit(kind: ResourceLimitKind, limits: ResourceLimits): string {
  switch (kind) {
    case 'processes':
      return `the process limit (${limits.processes} processes and threads)`;
    case 'memory':
      return `the memory limit (${formatBytes(limits.memory)})`;
    case 'file-size':
      return `the file size limit (${formatBytes(limits.fileSize)} per file)`;
    case 'disk':
      return `the disk quota (${formatBytes(limits.disk)} written in the worktree and HOME)`;
  }
}
