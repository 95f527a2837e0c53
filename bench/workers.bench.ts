// Several machines: one run of 32 scripted agents, worked by 1 `fanout worker` process and then by
// 4, on a real Redis. Every model answer takes MODEL_MS (agents wait on the model, as real ones
// do), so what is measured is how the queue spreads the work: the throughput ratio, how fast an
// idle worker picks up an agent job (p50, p99; target p99 ≤ 50 ms), and the Redis commands per agent.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { main } from '../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../src/demo/sample-repo.js';
import { startScriptedServer } from '../src/scripted-model/server.js';
import { redisAnswers } from '../test/support/redis-probe.js';
import { spawnWorker } from '../test/support/worker-processes.js';
import { writeFilesModel } from './fixtures.js';
import { median, ms } from './stats.js';

const AGENTS = 32;
const PER_WORKER = 4;
const MODEL_MS = Number(process.env.BENCH_MODEL_MS ?? 300);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const agentsModel = writeFilesModel(AGENTS);

async function commandsProcessed(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
}

/** One run of AGENTS agents on `workers` worker processes: wall time, pickup latencies, Redis commands. */
async function runOn(
  workers: number,
): Promise<{ wall: number; pickups: number[]; later: number[]; commands: number; merged: number }> {
  const root = await mkdtemp(join(tmpdir(), 'fanout-bench-workers-'));
  const repo = join(root, 'repo');
  // maxAgents is the whole capacity: a job is queued only when a worker has room for it, so the
  // time from queueing to start is the pickup itself.
  const maxAgents = Math.min(16, workers * PER_WORKER);
  await createRepository(repo, {
    ...SAMPLE_FILES,
    '.github/fanout.yml': `maxSubtasks: ${AGENTS}\nmaxAgents: ${maxAgents}\n`,
  });
  const server = await startScriptedServer({
    script: async (request) => {
      await new Promise((resolve) => setTimeout(resolve, MODEL_MS));
      return agentsModel(request);
    },
  });
  const prefix = `fanout-bench-${Date.now()}-${workers}`;
  const env: Record<string, string> = {
    REDIS_URL,
    FANOUT_REDIS_PREFIX: prefix,
    FANOUT_STATE_DIR: join(root, 'state'),
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_API_KEY: 'k',
    FANOUT_MODEL: 'scripted-model',
    FANOUT_SANDBOX: process.env.FANOUT_SANDBOX ?? 'none',
    FANOUT_ALLOW_ROOT_NONE: '1',
    TMPDIR: root,
  };
  const children = Array.from({ length: workers }, () => spawnWorker(env, ['--concurrency', String(PER_WORKER)]));
  await Promise.all(children.map((child) => child.waitFor(/taking jobs/)));
  const redis = new Redis(REDIS_URL);
  const before = await commandsProcessed(redis);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const output = { out: () => undefined, err: () => undefined };
  const started = performance.now();
  const code = await main(['run', '--repo', repo, '--json', `Write ${AGENTS} files`], output);
  const wall = performance.now() - started;
  for (const name of Object.keys(env)) delete process.env[name];
  Object.assign(process.env, saved);
  const commands = (await commandsProcessed(redis)) - before;
  const queue = new Queue('agents', { connection: redis, prefix: `${prefix}:q` });
  const jobs = (await queue.getJobs(['completed'], 0, -1)) as Job[];
  const pickups = jobs.flatMap((job) => (job.processedOn ? [job.processedOn - job.timestamp] : []));
  // The first wave is queued at once (maxAgents jobs) onto workers that all wake together; the rest
  // is queued one by one, as an agent ends and frees its slot.
  const firstEnd = Math.min(...jobs.map((job) => job.finishedOn ?? Infinity));
  const later = jobs.flatMap((job) =>
    job.processedOn && job.timestamp >= firstEnd ? [job.processedOn - job.timestamp] : [],
  );
  await queue.close();
  for (const child of children) child.kill('SIGKILL');
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await server.close();
  await rm(root, { recursive: true, force: true });
  return { wall, pickups, later, commands, merged: code === 0 ? AGENTS : -1 };
}

/** An idle worker process: how long from queueing a job to its start, one job at a time. */
async function idlePickups(count: number): Promise<number[]> {
  const root = await mkdtemp(join(tmpdir(), 'fanout-bench-pickup-'));
  const prefix = `fanout-bench-pickup-${Date.now()}`;
  const child = spawnWorker({ REDIS_URL, FANOUT_REDIS_PREFIX: prefix, FANOUT_STATE_DIR: join(root, 'state') }, [
    '--concurrency',
    '1',
  ]);
  await child.waitFor(/taking jobs/);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('agents', { connection: redis, prefix: `${prefix}:q` });
  const latencies: number[] = [];
  for (let n = 0; n < count; n += 1) {
    // A job for a run that does not exist: the worker takes it and fails it at once.
    const job = await queue.add('agent', {
      kind: 'agent',
      runId: `none-${n}`,
      subtaskId: 's',
      baseCommit: 'c',
      generation: '0',
    });
    for (;;) {
      const state = await job.getState();
      if (state === 'failed' || state === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const done = await Job.fromId(queue, job.id!);
    if (done?.processedOn) latencies.push(done.processedOn - done.timestamp);
  }
  child.kill('SIGKILL');
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await rm(root, { recursive: true, force: true });
  return latencies;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

if (!(await redisAnswers(REDIS_URL))) {
  console.log(`(no Redis answers at ${REDIS_URL}: start redis-server, or set REDIS_URL)`);
} else {
  console.log(
    `${AGENTS} scripted agents (model answers take ${MODEL_MS} ms), ${PER_WORKER} agents per worker process, on ${REDIS_URL}`,
  );
  const one = await runOn(1);
  const four = await runOn(4);
  for (const [label, result] of [
    ['1 worker ', one],
    ['4 workers', four],
  ] as const) {
    console.log(
      `  ${label}: ${(result.wall / 1000).toFixed(2)} s (${((AGENTS / result.wall) * 1000).toFixed(2)} agents/s)${result.merged === AGENTS ? '' : ' — the run did not merge everything'}; pickup p50 ${ms(median(result.pickups))}, p99 ${ms(percentile(result.pickups, 99))} over ${result.pickups.length} jobs (after the first wave: p50 ${ms(median(result.later))}, p99 ${ms(percentile(result.later, 99))} over ${result.later.length}); Redis commands per agent ${(result.commands / AGENTS).toFixed(0)}`,
    );
  }
  console.log(`  throughput, 4 workers over 1: ${(one.wall / four.wall).toFixed(2)}×`);
  const idle = await idlePickups(200);
  console.log(
    `  pickup by an idle worker, ${idle.length} jobs one at a time: p50 ${ms(median(idle))}, p99 ${ms(percentile(idle, 99))}`,
  );
}
