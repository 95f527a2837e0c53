import type { CoordStore } from '../ports/coord-store.js';

/** How long `/healthz` waits for the store before calling it down. */
export const HEALTH_TIMEOUT_MS = 3_000;

/** What `/healthz` answers: ok, or why not (a short reason, fit for anyone who can reach the port). */
export type Health = { ok: true } | { ok: false; reason: string; error?: unknown };

/**
 * The App is healthy when its store answers: without it no command can be stored and every
 * delivery is answered 503. The reason names the error's code, not its message (which may name
 * paths or hosts); the caller logs `error` in full.
 */
export async function storeHealth(store: Pick<CoordStore, 'ping'>, timeoutMs = HEALTH_TIMEOUT_MS): Promise<Health> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  try {
    const answer = await Promise.race([store.ping().then(() => 'ok' as const), timedOut]);
    if (answer === 'timeout') return { ok: false, reason: `store unavailable: no answer within ${timeoutMs} ms` };
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const name = typeof code === 'string' ? code : error instanceof Error ? error.name : 'error';
    return { ok: false, reason: `store unavailable: ${name}`, error };
  } finally {
    clearTimeout(timer);
  }
}
