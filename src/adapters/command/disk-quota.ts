import { lstat, readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** How often a running command's disk use is looked at (one `statfs` per file system). */
export const DISK_POLL_MS = 250;
// File times come from the kernel's coarse clock, which may lag a tick behind this process's.
const CLOCK_SLACK_MS = 50;
// Scopes of commands without a private HOME are never disposed of; keep only the latest.
const MAX_SCOPES = 256;

/**
 * One worktree and private HOME (an agent's attempt, a setup, a validation): what its commands
 * wrote counts from its first command on.
 */
interface Scope {
  roots: string[];
  since: number;
  /** Each file system's used bytes when last measured (or when the scope began), by device. */
  mark: Map<number, { root: string; used: number }>;
  /** The scope's bytes at the last walk. */
  measured: number;
  checking?: Promise<boolean>;
}

/**
 * A disk quota per worktree and private HOME, without kernel quotas (they need root and a file
 * system set up for them). Cheap while nothing grows: each look is one `statfs` per file system;
 * only when a file system grew by more than the room left does it walk the scope's directories,
 * counting the blocks of every file created or changed since the scope's first command (hard
 * links once). Bounds what commands write in those directories; see the README for what it does
 * not bound.
 */
export class DiskQuotas {
  private readonly scopes = new Map<string, Scope>();

  /** Starts looking at a command's directories; `check` answers whether they are past `limitBytes`. */
  async watch(roots: readonly string[], limitBytes: number): Promise<{ check: () => Promise<boolean> }> {
    const scope = await this.scopeFor(roots);
    return { check: () => this.check(scope, limitBytes) };
  }

  /** Forgets the scopes of a private HOME that is gone. */
  forget(home: string): void {
    for (const [key, scope] of this.scopes) if (scope.roots.includes(home)) this.scopes.delete(key);
  }

  private async scopeFor(roots: readonly string[]): Promise<Scope> {
    const key = roots.join('\0');
    const known = this.scopes.get(key);
    if (known) return known;
    const since = Date.now() - CLOCK_SLACK_MS;
    const mark = new Map<number, { root: string; used: number }>();
    for (const root of roots) {
      const device = await deviceOf(root);
      if (device !== null && !mark.has(device)) mark.set(device, { root, used: await usedBytes(root) });
    }
    const scope: Scope = { roots: [...roots], since, mark, measured: 0 };
    this.scopes.set(key, scope);
    if (this.scopes.size > MAX_SCOPES) this.scopes.delete(this.scopes.keys().next().value as string);
    return scope;
  }

  private check(scope: Scope, limitBytes: number): Promise<boolean> {
    scope.checking ??= this.look(scope, limitBytes).finally(() => delete scope.checking);
    return scope.checking;
  }

  private async look(scope: Scope, limitBytes: number): Promise<boolean> {
    const now = new Map<number, number>();
    let grown = 0;
    for (const [device, { root, used }] of scope.mark) {
      const current = await usedBytes(root);
      now.set(device, current);
      grown += current - used;
    }
    // The scope cannot have passed the limit unless its file systems grew by the room it had left
    // (deletions elsewhere on the same file system meanwhile delay this by what they freed). Once
    // past it, every look measures again: the agent may have cleaned up.
    if (scope.measured <= limitBytes && grown < limitBytes - scope.measured) return false;
    scope.measured = await writtenSince(scope.roots, scope.since);
    for (const [device, used] of now) scope.mark.set(device, { root: scope.mark.get(device)!.root, used });
    return scope.measured > limitBytes;
  }
}

/** Bytes on disk of the files (and directories) under `roots` created or changed since `since`; links never followed. */
export async function writtenSince(roots: readonly string[], since: number): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const pending = [...roots];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of entries) {
      const path = join(dir, name);
      const info = await lstat(path, { bigint: false }).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) pending.push(path);
      // The ctime moves on every write and cannot be set back by the command (mtime can).
      if (info.ctimeMs < since) continue;
      const identity = `${info.dev}:${info.ino}`;
      if (info.nlink > 1) {
        if (seen.has(identity)) continue;
        seen.add(identity);
      }
      total += info.blocks * 512;
    }
  }
  return total;
}

async function usedBytes(path: string): Promise<number> {
  try {
    const info = await statfs(path);
    return (info.blocks - info.bfree) * info.bsize;
  } catch {
    return 0;
  }
}

async function deviceOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).dev;
  } catch {
    return null;
  }
}
