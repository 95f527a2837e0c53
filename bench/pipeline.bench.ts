// Orchestration overhead of a whole local run against the seed's own mechanics
// (../shared/bench/seed-baseline.sh), side by side in one process, on identical 10,000-file
// repositories: N = 1, 4, 16 agents with zero model latency that each write one file. Then a
// second run on the same repository, whose worktrees come warm from the pool. Each is composed
// as `fanout run` composes it (createLocalPipeline).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpenAiLlm } from '../src/adapters/llm/openai-llm.js';
import { loadEnv } from '../src/config/env.js';
import { parseRepoConfig } from '../src/config/repo-config.js';
import { createLocalPipeline } from '../src/main.js';
import { executeRun } from '../src/orchestrate/execute-run.js';
import { startRun } from '../src/orchestrate/start-run.js';
import { startScriptedServer } from '../src/scripted-model/server.js';
import { git, largeRepository, writeFilesModel } from './fixtures.js';
import { median } from './stats.js';

const run = promisify(execFile);
const SEED = join(process.cwd(), '..', 'shared', 'bench', 'seed-baseline.sh');

/** One Fanout run on `repo`, composed as `fanout run` composes it: wall time and worktree setup per agent. */
async function fanoutRun(
  repo: string,
  stateDir: string,
  agents: number,
  round: number,
): Promise<{ wall: number; worktree: number[]; merged: number }> {
  const server = await startScriptedServer({ script: writeFilesModel(agents, `${round}-`) });
  const llm = new OpenAiLlm({
    baseUrl: server.baseUrl,
    apiKey: 'k',
    model: 'scripted-model',
    timeoutMs: 60_000,
    maxAnswerBytes: 1_000_000,
    idleTimeoutMs: 60_000,
    maxRetries: 0,
    stream: true,
  });
  // The production wiring (redacting store and forge, environment preparation, caches on disk);
  // the scripted agents run no command, so the sandbox choice costs nothing here.
  const env = loadEnv({ FANOUT_STATE_DIR: stateDir, FANOUT_SANDBOX: process.env.FANOUT_SANDBOX ?? 'auto' });
  const deps = createLocalPipeline(env, repo, llm, { trustedCommands: true });
  const started = await startRun(deps, {
    repoDir: repo,
    task: `Write ${agents} files`,
    config: parseRepoConfig(`maxSubtasks: ${agents}\nmaxAgents: 4\n`),
  });
  const clock = performance.now();
  const report = await executeRun(deps, started.id);
  const wall = performance.now() - clock;
  await server.close();
  const records = await deps.store.listSubtasks(started.id);
  await deps.store.close();
  return {
    wall,
    worktree: records.map((record) => record.timings?.worktree ?? 0),
    merged: report.subtasks.filter((subtask) => subtask.merged).length,
  };
}

/** The seed's mechanics on `repo` (seed-baseline.sh): its total wall time. */
async function seedRun(repo: string, agents: number, where: string): Promise<number | null> {
  if (!existsSync(SEED)) return null;
  // The seed puts its worktrees under TMPDIR: on the same filesystem as Fanout's, for a fair race.
  const { stdout } = await run('bash', [SEED, repo, String(agents)], {
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, TMPDIR: where },
  });
  const total = /total ([\d.]+)s/.exec(stdout)?.[1];
  return total ? Number(total) * 1000 : null;
}

/** A cold `git worktree add` (and remove) of the repository: what a fresh worktree costs. */
async function coldWorktreeAdd(repo: string, where: string): Promise<number> {
  const times: number[] = [];
  for (let sample = 0; sample < 3; sample += 1) {
    const path = join(where, `cold-${sample}`);
    const started = performance.now();
    await git(repo, 'worktree', 'add', '--quiet', '--detach', path, 'HEAD');
    times.push(performance.now() - started);
    await git(repo, 'worktree', 'remove', '--force', path);
  }
  return median(times);
}

/**
 * Writes back what the disk still holds dirty (a repository just made): otherwise the next timed
 * run pays for the writes of whatever ran before it, and the order of the runs decides the race.
 */
async function settleDisk(): Promise<void> {
  await run('sync', []).catch(() => undefined);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const locations: Array<[string, string]> = [
  ['disk', tmpdir()],
  ...(existsSync('/dev/shm') ? [['tmpfs', '/dev/shm'] as [string, string]] : []),
];
// BENCH_WHERE=disk or tmpfs runs one location only (the disk half takes minutes on a slow disk).
const where = process.env.BENCH_WHERE;
if (where) locations.splice(0, locations.length, ...locations.filter(([label]) => label === where));
// Warm runs and the seed alternate this many times (medians printed): the machine is noisy.
const samples = Math.max(1, Number(process.env.BENCH_SAMPLES ?? 3));
// BENCH_AGENTS=16 (or 4,16) runs only those numbers of agents.
const counts = (process.env.BENCH_AGENTS ?? '1,4,16')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
if (!existsSync(SEED)) console.log(`(the seed's mechanics are not here: ${SEED}; only Fanout's figures are printed)`);
for (const [label, where] of locations) {
  console.log(
    `local run against the seed's mechanics, 10,000-file repositories, maxAgents 4, zero model latency (${label}; medians of ${samples})`,
  );
  for (const agents of counts) {
    const root = await mkdtemp(join(where, 'fanout-bench-run-'));
    const repo = join(root, 'repo');
    const seedRepo = join(root, 'seed-repo');
    await largeRepository(repo, 10_000);
    await largeRepository(seedRepo, 10_000);
    const seeds: number[] = [];
    const colds: Array<Awaited<ReturnType<typeof fanoutRun>>> = [];
    const warms: Array<Awaited<ReturnType<typeof fanoutRun>>> = [];
    // A first run on a repository of its own each time (its pool is empty), then a later run on
    // the same one; the seed between them, so no side always runs on a warmer machine.
    for (let sample = 0; sample < samples; sample += 1) {
      const fresh = join(root, `fresh-${sample}`);
      await largeRepository(fresh, 10_000);
      await settleDisk();
      colds.push(await fanoutRun(fresh, join(root, `state-${sample}`), agents, 1));
      await rm(fresh, { recursive: true, force: true });
      await rm(join(root, `state-${sample}`), { recursive: true, force: true });
      await settleDisk();
      const seed = await seedRun(seedRepo, agents, where);
      if (seed !== null) seeds.push(seed);
      // The repository's first run warms its pool; the later runs are the ones measured.
      if (sample === 0) await fanoutRun(repo, join(root, 'state'), agents, 1);
      await settleDisk();
      warms.push(await fanoutRun(repo, join(root, 'state'), agents, sample + 2));
    }
    const seed = seeds.length > 0 ? median(seeds) : null;
    const cold = median(colds.map((result) => result.wall));
    const warm = median(warms.map((result) => result.wall));
    const merged = Math.min(...colds.map((result) => result.merged), ...warms.map((result) => result.merged));
    await settleDisk();
    const add = await coldWorktreeAdd(repo, root);
    const ratio = (ms: number) => (seed ? ` => Fanout/seed ${(ms / seed).toFixed(2)}` : '');
    console.log(
      `  N=${String(agents).padStart(2)}  seed ${seed ? seconds(seed) : '-'} (per agent ${seed ? seconds(seed / agents) : '-'}); every run merged ${merged}/${agents}`,
    );
    console.log(`        Fanout first run (cold worktrees) ${seconds(cold)}${ratio(cold)}`);
    console.log(`        Fanout later runs (warm worktrees) ${seconds(warm)}${ratio(warm)}`);
    const setups = warms.flatMap((result) => result.worktree);
    const setup = median(setups);
    const mean = setups.reduce((sum, value) => sum + value, 0) / Math.max(1, setups.length);
    console.log(
      `        worktree setup per agent, later runs: median ${setup.toFixed(0)} ms (mean ${mean.toFixed(0)}) vs ${add.toFixed(0)} ms for a cold git worktree add => ${(setup / add).toFixed(2)} (mean ${(mean / add).toFixed(2)})`,
    );
    await rm(root, { recursive: true, force: true });
  }
}
console.log(`  peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
