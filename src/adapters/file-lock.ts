import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

const STALE_LOCK_MS = 30_000;
// The holder touches its lock this often, so only a lock whose holder died goes stale.
const HEARTBEAT_MS = STALE_LOCK_MS / 3;

/**
 * Runs `fn` while holding an exclusive lock file, so writers in other processes wait their turn.
 * The lock names its holder (pid and host): a lock whose holder on this host is gone (killed) is
 * broken at once; one from another host is broken when untouched for 30 s.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const holder = `${process.pid} ${hostname()} ${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; ; attempt += 1) {
    if (await tryCreate(lockPath, holder)) break;
    await breakIfAbandoned(lockPath);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 20) * Math.random()));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(lockPath, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await unlink(lockPath).catch(() => undefined);
  }
}

/**
 * Takes a lock that stays held until `releaseLock` (across awaits, even across a process's life):
 * the holder's name, or null when a live holder has it. A lock whose holder on this host is gone
 * is taken over. The caller keeps it fresh with `keepFresh`, so that only a dead holder's lock
 * ever looks abandoned.
 */
export async function claimLock(lockPath: string): Promise<string | null> {
  const holder = `${process.pid} ${hostname()} ${randomBytes(4).toString('hex')}`;
  if (await tryCreate(lockPath, holder)) return holder;
  await breakIfAbandoned(lockPath);
  return (await tryCreate(lockPath, holder)) ? holder : null;
}

/** Whether `holder` still holds the lock (it was not broken and taken by someone else). */
export async function holdsLock(lockPath: string, holder: string): Promise<boolean> {
  return (await readFile(lockPath, 'utf8').catch(() => null)) === holder;
}

/** Touches a held lock regularly (an untouched lock is broken after 30 s); returns stop. */
export function keepFresh(lockPath: string, holder: string, everyMs = HEARTBEAT_MS): () => void {
  const timer = setInterval(() => {
    void holdsLock(lockPath, holder).then((held) => {
      const now = new Date();
      if (held) void utimes(lockPath, now, now).catch(() => undefined);
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Releases a lock taken with `claimLock`, unless someone else holds it now. */
export async function releaseLock(lockPath: string, holder: string): Promise<void> {
  if (await holdsLock(lockPath, holder)) await unlink(lockPath).catch(() => undefined);
}

/** Creates the lock with its holder already written (a hard link either appears whole or fails). */
async function tryCreate(lockPath: string, holder: string): Promise<boolean> {
  const draft = `${lockPath}.${holder.split(' ')[2]}`;
  try {
    // Inside the try: a draft whose write failed (a full disk) is removed too.
    await writeFile(draft, holder, { mode: 0o600 });
    await link(draft, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** Removes a lock whose holder is gone (killed), leaving a live holder's alone. */
export async function breakIfAbandoned(lockPath: string): Promise<void> {
  const content = await readFile(lockPath, 'utf8').catch(() => null);
  if (content === null) return;
  const age = await stat(lockPath).then(
    (info) => Date.now() - info.mtimeMs,
    () => 0,
  );
  // Every holder touches its lock while it holds it (withFileLock, keepFresh): a lock untouched
  // for 30 s lost its holder, even one whose pid now names another process.
  if (!holderIsGone(content) && age <= STALE_LOCK_MS) return;
  // Only the lock we judged: another waiter may have broken it and taken a fresh one meanwhile.
  if ((await readFile(lockPath, 'utf8').catch(() => null)) === content) await unlink(lockPath).catch(() => undefined);
}

function holderIsGone(content: string): boolean {
  const [pid, host] = content.split(' ');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Serializes async work per key inside this process (cheaper than contending on the lock file). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
