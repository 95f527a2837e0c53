import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { createDistributed } from '../../main-distributed.js';
import { createWorkerDeps, workerPreflight } from '../../main-worker.js';
import { startWorker } from '../../orchestrate/jobs/worker.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { UsageError } from '../errors.js';

export const WORKER_USAGE = 'fanout worker [--concurrency N]';

// How long a stop waits for the jobs in hand before handing them back to other workers.
const DRAIN_MS = 10 * 60_000;

/**
 * `fanout worker`: runs agent jobs and run passes from the deployment's Redis (REDIS_URL) on this
 * machine, `--concurrency` agents at once. SIGTERM or Ctrl-C drains it: it takes no new job, lets
 * the agent jobs in hand finish (handing them back after 10 minutes), hands its run passes back
 * to other workers, and exits.
 */
export async function workerCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { concurrency: { type: 'string' } } });
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a whole number above 0, such as 4.\nusage: ${WORKER_USAGE}`);
  const git = await workerPreflight(env);
  const distributed = createDistributed(env);
  const log = (message: string, error?: unknown) =>
    output.err(
      `${new Date().toISOString()} ${message}${error ? `: ${error instanceof Error ? error.message : String(error)}` : ''}`,
    );
  const worker = startWorker(createWorkerDeps(env, distributed, log), {
    agents: concurrency,
    runs: Math.max(2, concurrency),
    intake: 2,
  });
  log(
    `worker ${process.pid} taking jobs (${concurrency} agents at once) from ${env.FANOUT_REDIS_PREFIX} on Redis, with ${git}`,
  );
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: taking no new job; finishing the agent jobs in hand, handing back run passes`);
      const handBack = setTimeout(() => void worker.stop({ drain: false }), DRAIN_MS);
      handBack.unref();
      // Agent jobs and the intake finish here; passes over runs (which wait on agent jobs that
      // only other workers will take now) are handed back and resumed from the store elsewhere.
      void worker
        .stop({ drain: true, handBack: ['runs'] })
        .finally(async () => {
          clearTimeout(handBack);
          await distributed.close();
          log('stopped');
        })
        .then(() => {
          resolve(EXIT_OK);
          // What was handed back may still be running here (a pass waiting on agent jobs): it
          // ends with the process, as a crash would, and another worker resumes it.
          setImmediate(() => process.exit(EXIT_OK));
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
