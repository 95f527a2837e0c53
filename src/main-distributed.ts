import { hostname } from 'node:os';
import { RedisLocks } from './adapters/coord/redis-locks.js';
import { BullJobQueue } from './adapters/queue/bullmq-job-queue.js';
import type { Env } from './config/env.js';
import { ConfigError } from './domain/errors.js';
import type { SecretRedactor } from './domain/redactor.js';
import type { RunRecord } from './domain/run.js';
import { createLedger, createRedactor, createStore } from './main.js';
import { QueueDispatcher } from './orchestrate/dispatcher.js';
import type { PipelineDeps } from './orchestrate/pipeline-deps.js';
import type { CoordStore } from './ports/coord-store.js';
import type { JobQueue } from './ports/job-queue.js';
import type { Ledger } from './ports/ledger.js';
import type { Locks } from './ports/locks.js';

/** What every process of a deployment on Redis shares: the store, the job queues and the locks. */
export interface Distributed {
  store: CoordStore;
  /** The store's redactor: secrets this process learns (installation tokens) are added to it. */
  redactor: SecretRedactor;
  jobs: JobQueue;
  locks: Locks;
  /** Model spending, added up from every worker's gateway. */
  ledger: Ledger;
  close(): Promise<void>;
}

/** Connects to the deployment's Redis (REDIS_URL, keys and queues under FANOUT_REDIS_PREFIX). */
export function createDistributed(env: Env): Distributed {
  if (!env.REDIS_URL)
    throw new ConfigError('REDIS_URL is not set: workers and queued runs need the Redis every process shares.');
  const redactor = createRedactor(env);
  const store = createStore(env, redactor);
  const jobs = new BullJobQueue(env.REDIS_URL, {
    prefix: env.FANOUT_REDIS_PREFIX,
    lockMs: env.FANOUT_JOB_LOCK_MS,
    ...(env.FANOUT_MAX_AGENTS ? { globalAgentLimit: env.FANOUT_MAX_AGENTS } : {}),
  });
  const locks = new RedisLocks(env.REDIS_URL, env.FANOUT_REDIS_PREFIX, { ttlMs: env.FANOUT_LOCK_TTL_MS });
  const ledger = createLedger(env);
  return {
    store,
    redactor,
    jobs,
    locks,
    ledger,
    async close() {
      await jobs.close();
      await locks.close();
      await ledger.close();
      await store.close();
    },
  };
}

/** A repository as every machine names it: where its agent slots and merge queue are counted. */
export function repositoryKey(run: RunRecord): string {
  if (run.origin.kind === 'github') {
    const host = new URL(run.origin.htmlUrl).host;
    return `github:${host}/${run.origin.owner}/${run.origin.repo}`.toLowerCase();
  }
  return `local:${run.repo}`;
}

/** A run's agents go through the queue, `maxAgents` of its repository at once across machines. */
export function queuedAgents(distributed: Distributed): Pick<PipelineDeps, 'dispatcherFor'> {
  return {
    dispatcherFor: (run) =>
      new QueueDispatcher(distributed.jobs, {
        locks: distributed.locks,
        store: distributed.store,
        repository: repositoryKey(run),
        maxAgents: run.config.maxAgents,
      }),
  };
}

/**
 * One merge queue per repository at a time, across machines: the repository's merge lock, whose
 * fencing token is checked before every landing, so a merge phase that lost it stops.
 */
export function exclusiveMerges(
  distributed: Distributed,
  repository: string,
  log: (message: string) => void,
): Pick<PipelineDeps, 'mergeExclusively'> {
  return {
    mergeExclusively: async (work) => {
      const lease = await distributed.locks.acquire(`merge:${repository}`);
      const holder = `${hostname()}:${process.pid}`;
      log(`merge queue of ${repository} taken by ${holder} (token ${lease.token})`);
      try {
        return await work(() => lease.check());
      } finally {
        log(`merge queue of ${repository} released by ${holder} (token ${lease.token})`);
        await lease.release();
      }
    },
  };
}
