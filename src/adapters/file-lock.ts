import { open, stat, unlink, utimes } from 'node:fs/promises';

const STALE_LOCK_MS = 30_000;
// The holder touches its lock this often, so only a lock whose holder died goes stale.
const HEARTBEAT_MS = STALE_LOCK_MS / 3;

/**
 * Runs `fn` while holding an exclusive lock file (O_EXCL create), so writers in other processes
 * wait their turn. A lock untouched for 30 s is taken to be left by a crashed process and broken.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lockPath).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await unlink(lockPath).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 20) * Math.random()));
    }
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
