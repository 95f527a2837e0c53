import type { Env } from '../../config/env.js';
import { createDistributed } from '../../main-distributed.js';
import { createWorkspace } from '../../main.js';
import { prepareResume } from '../../orchestrate/execute-run.js';
import { runLock } from '../../orchestrate/jobs/run-pass.js';
import { requireRun } from '../../orchestrate/run-records.js';
import { runPassJobId } from '../../orchestrate/run-starter.js';
import { startRun, type StartRunOptions } from '../../orchestrate/start-run.js';
import { renderRunReport } from '../../report/render-report.js';
import { runHeadline } from '../../report/run-headline.js';
import { buildRunReport } from '../../report/run-report.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { showProgress } from '../progress-display.js';
import type { Locks } from '../../ports/locks.js';

// How long a queued pass may wait before the user is told that no worker is taking it.
const NO_WORKER_HINT_MS = 3_000;

/** A run to start (`start`) or to go on with (`resume`), and where its progress and report go. */
export interface RunRequest {
  env: Env;
  repoDir: string;
  output: Output;
  json: boolean;
  start?: Omit<StartRunOptions, 'repoDir'>;
  resume?: { runId: string; retryFailed: boolean };
}

/**
 * `fanout run` and `resume` with REDIS_URL: the run is recorded and queued; workers on any machine
 * plan it, run its agents and merge; this process shows the same live progress from the store and
 * prints the report. Ctrl-C stops watching only: the run goes on.
 */
export async function runQueued(input: RunRequest): Promise<number> {
  const distributed = createDistributed(input.env);
  const { store, jobs } = distributed;
  try {
    const run = input.resume
      ? await prepareResume({ store }, input.resume.runId, { retryFailed: input.resume.retryFailed })
      : await startRun({ store, workspace: createWorkspace() }, { repoDir: input.repoDir, ...input.start! });
    // Ctrl-C from here on only stops watching: the run goes on.
    let detached = false;
    let detach: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (detach = resolve));
    const onSignal = () => {
      detached = true;
      input.output.err(`\nStopped watching; the run goes on. \`fanout status ${run.id}\` shows it.`);
      detach();
    };
    process.once('SIGINT', onSignal);
    const passId = runPassJobId(run.id);
    await jobs.add(passId, { kind: 'run-pass', runId: run.id });
    if (!input.json) {
      input.output.out(runHeadline(run));
      input.output.out(`Queued on Redis (${input.env.FANOUT_REDIS_PREFIX}): workers do the work.`);
    }
    const hint = setTimeout(() => {
      void jobs.waiting('runs').then((waiting) => {
        if (waiting > 0)
          input.output.err(
            'No worker has taken the run yet: start one with `fanout worker` (same REDIS_URL) on a machine that can reach the repository.',
          );
      });
    }, NO_WORKER_HINT_MS);
    hint.unref();
    const stop = input.json
      ? async () => undefined
      : showProgress(store, run.id, input.output, process.stdout.isTTY === true);
    try {
      await Promise.race([jobs.outcome('runs', passId), interrupted]);
      // The request may have found the run held by a pass elsewhere (a resume while it runs), which
      // then went on with it: followed to its end too, once no pass holds the run.
      if (!detached) await passesOver(distributed.locks, run.id, interrupted);
    } finally {
      clearTimeout(hint);
      process.off('SIGINT', onSignal);
      await stop();
    }
    if (detached) return EXIT_FAILED;
    const current = await requireRun({ store }, run.id);
    const report = buildRunReport(current, await store.listSubtasks(run.id));
    input.output.out(
      input.json ? JSON.stringify(report, null, 2) : `\n${renderRunReport(report, { resumable: true })}`,
    );
    return report.state === 'succeeded' ? EXIT_OK : EXIT_FAILED;
  } finally {
    await distributed.close();
  }
}

/** Resolves once no pass holds the run (or on `interrupted`); the lock is let go at once. */
async function passesOver(locks: Locks, runId: string, interrupted: Promise<void>): Promise<void> {
  const stop = new AbortController();
  void interrupted.then(() => stop.abort());
  const lease = await locks.acquire(runLock(runId), stop.signal).catch(() => null);
  await lease?.release();
}
