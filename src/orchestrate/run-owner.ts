import { hostname } from 'node:os';
import type { RunOwner, RunRecord } from '../domain/run.js';

/** This process, as a run owner. */
export function currentOwner(): RunOwner {
  return { pid: process.pid, host: hostname(), since: new Date().toISOString() };
}

const ACTIVE = new Set<RunRecord['state']>(['planning', 'awaiting-approval', 'running', 'merging']);

/**
 * True when the run is still being executed by a live process. Runs owned by another host count
 * as live: their process cannot be checked from here, and their worktrees are not ours to remove.
 */
export function runIsLive(run: RunRecord): boolean {
  if (!ACTIVE.has(run.state)) return false;
  const owner = run.owner;
  if (!owner) return false;
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
