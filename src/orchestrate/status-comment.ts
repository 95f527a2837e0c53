import type { RunRecord } from '../domain/run.js';
import type { CoordStore } from '../ports/coord-store.js';
import type { Forge } from '../ports/forge.js';
import { renderStatusComment } from '../report/render-status-comment.js';

/** Keeps a run's status comment current while it runs. */
export interface StatusPublisher {
  /** Renders and publishes now (no debounce), and waits for it. */
  flush(): Promise<void>;
  /** Publishes the last state and stops watching. */
  stop(): Promise<void>;
}

/**
 * Creates the run's status comment on its issue once (its id is stored on the run, so a restart
 * edits the same comment) and edits it in place as the run changes, at most once per `debounceMs`:
 * GitHub spaces comment writes seconds apart, and people read a table, not a stream.
 */
export function publishStatus(
  deps: { store: CoordStore; forge: Forge },
  runId: string,
  options: { debounceMs: number; onError?: (error: unknown) => void },
): StatusPublisher {
  let lastBody = '';
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const publish = async () => {
    const run = await deps.store.getRun(runId);
    if (!run || run.origin.kind !== 'github') return;
    const body = renderStatusComment(run, await deps.store.listSubtasks(runId));
    if (body === lastBody) return;
    await upsertStatusComment(deps, run, body);
    lastBody = body;
  };
  const enqueue = () => {
    chain = chain.then(publish).catch((error: unknown) => options.onError?.(error));
    return chain;
  };
  const unsubscribe = deps.store.watch(runId, (change) => {
    if (stopped || change.kind === 'event') return;
    timer ??= setTimeout(() => {
      timer = undefined;
      void enqueue();
    }, options.debounceMs);
  });
  return {
    flush: () => enqueue(),
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clearTimeout(timer);
      timer = undefined;
      await enqueue();
    },
  };
}

/** Creates the status comment, or edits the one the run already has. */
export async function upsertStatusComment(
  deps: { store: CoordStore; forge: Forge },
  run: RunRecord,
  body: string,
): Promise<void> {
  if (run.origin.kind !== 'github') return;
  if (run.statusCommentId !== undefined) {
    await deps.forge.updateComment(run.statusCommentId, body);
    return;
  }
  const id = await deps.forge.createComment(run.origin.issue, body);
  await deps.store.updateRun(run.id, { statusCommentId: id });
}
