import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { breakIfAbandoned, claimLock, holdsLock, keepFresh, releaseLock } from '../file-lock.js';

// More slots than this per repository means something leaks; refuse rather than fill the disk.
const MAX_SLOTS = 256;

/** A pool slot: a directory for one worktree, held by one user at a time through its lock file. */
export interface PoolSlot {
  path: string;
  lockPath: string;
  /** Who holds it (the lock file's content), kept fresh until released. */
  holder: string;
  stopRefreshing: () => void;
}

/** The pool directory of one repository: one per git common dir, under `poolRoot`. */
export function poolDirectory(poolRoot: string, commonDir: string): string {
  return join(poolRoot, createHash('sha256').update(commonDir).digest('hex').slice(0, 12));
}

/**
 * Claims the first free slot of a repository's pool (a crashed holder's slot is free again),
 * preferring slots that already hold a worktree, so a warm checkout is reused before a new one is
 * made. Null when no existing slot is free and `create` is false.
 */
export async function claimSlot(directory: string, options: { create?: boolean } = {}): Promise<PoolSlot | null> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const existing = (await readdir(directory).catch(() => [] as string[]))
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const order = [
    ...existing,
    ...(options.create === false
      ? []
      : Array.from({ length: MAX_SLOTS }, (_, index) => index).filter((index) => !existing.includes(index))),
  ];
  for (const index of order) {
    const lockPath = join(directory, `${index}.lock`);
    const holder = await claimLock(lockPath);
    if (holder)
      return { path: join(directory, String(index)), lockPath, holder, stopRefreshing: keepFresh(lockPath, holder) };
  }
  if (options.create === false) return null;
  throw new Error(`all ${MAX_SLOTS} worktree slots in ${directory} are in use`);
}

/**
 * What a slot held when it was handed back and tidied: its files and index exactly `commit`
 * (HEAD detached there), nothing untracked, ignored files kept or not. Valid only while the
 * index and HEAD are the ones the tidy left.
 */
export interface TidySlot {
  commit: string;
  keptIgnored: boolean;
  head: string;
  index: string;
}

/** Records a tidy slot, by its holder before freeing it (a slot no longer ours gets no mark). */
export async function markTidy(slot: PoolSlot, tidy: TidySlot): Promise<void> {
  if (await holdsSlot(slot)) await writeFile(`${slot.path}.tidy`, JSON.stringify(tidy), { mode: 0o600 });
}

/** Takes (reads and forgets) what the slot's last tidy recorded; only the slot's holder calls it. */
export async function takeTidy(slotPath: string): Promise<TidySlot | null> {
  const text = await readFile(`${slotPath}.tidy`, 'utf8').catch(() => null);
  await rm(`${slotPath}.tidy`, { force: true });
  if (text === null) return null;
  try {
    return JSON.parse(text) as TidySlot;
  } catch {
    return null;
  }
}

/** Frees the slots of every pool under `poolRoot` whose holder died (a crashed run). */
export async function freeAbandonedSlots(poolRoot: string): Promise<void> {
  for (const repository of await readdir(poolRoot).catch(() => [] as string[])) {
    for (const name of await readdir(join(poolRoot, repository)).catch(() => [] as string[])) {
      if (name.endsWith('.lock')) await breakIfAbandoned(join(poolRoot, repository, name));
    }
  }
}

/** Frees a slot for the next user (unless its lock was taken over meanwhile: then it is not ours to free). */
export async function releaseSlot(slot: PoolSlot): Promise<void> {
  slot.stopRefreshing();
  await releaseLock(slot.lockPath, slot.holder);
}

/** Whether the slot is still ours. */
export function holdsSlot(slot: PoolSlot): Promise<boolean> {
  return holdsLock(slot.lockPath, slot.holder);
}

/**
 * The record (`<common>/worktrees/<id>`) git keeps for the worktree at `path`, found from the
 * records' own `gitdir` files (Fanout never trusts the `.git` file inside the worktree).
 */
export async function recordOf(commonDir: string, path: string): Promise<string | null> {
  if (!existsSync(path)) return null;
  const real = await realpath(path);
  const records = join(commonDir, 'worktrees');
  for (const id of await readdir(records).catch(() => [] as string[])) {
    const gitFile = (await readFile(join(records, id, 'gitdir'), 'utf8').catch(() => '')).trim();
    if (gitFile === join(real, '.git')) return join(records, id);
  }
  return null;
}
