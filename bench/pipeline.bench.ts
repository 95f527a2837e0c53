// Orchestration overhead of a whole local run against the seed's own mechanics
// (../shared/bench/seed-baseline.sh), side by side in one process, on identical 10,000-file
// repositories: N = 1, 4, 16 agents with zero model latency that each write one file. Then a
// second run on the same repository, whose worktrees come warm from the pool.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProcessCommandRunner } from '../src/adapters/command/process-runner.js';
import { FileCoordStore } from '../src/adapters/coord/file-store.js';
import { LocalForge } from '../src/adapters/forge/local-forge.js';
import { OpenAiLlm } from '../src/adapters/llm/openai-llm.js';
import { GitWorkspace } from '../src/adapters/workspace/git-workspace.js';
import { parseRepoConfig } from '../src/config/repo-config.js';
import { executeRun } from '../src/orchestrate/execute-run.js';
import { ProbeCache } from '../src/orchestrate/probe-cache.js';
import { startRun } from '../src/orchestrate/start-run.js';
import { startScriptedServer } from '../src/scripted-model/server.js';
import type { RecordedRequest, ScriptedReply } from '../src/scripted-model/types.js';
import { git, largeRepository } from './fixtures.js';
import { median } from './stats.js';

const run = promisify(execFile);
const SEED = join(process.cwd(), '..', 'shared', 'bench', 'seed-baseline.sh');

function model(agents: number, round: number) {
  return (request: RecordedRequest): ScriptedReply => {
    const body = request.body;
    if (body.tools?.some((tool) => tool.function.name === 'record_sum'))
      return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
    if (body.response_format?.json_schema?.name === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
    if (body.response_format?.json_schema?.name === 'plan') {
      const subtasks = Array.from({ length: agents }, (_, n) => ({
        id: `part-${n}`,
        title: `Part ${n}`,
        instructions: `Write out/${round}-${n}.txt`,
        writeScope: [`out/${round}-${n}.txt`],
        readScope: [],
        dependsOn: [],
      }));
      return { content: JSON.stringify({ subtasks }) };
    }
    const n = /Your subtask: Part (\d+)/.exec(body.messages.find((m) => m.role === 'user')?.content ?? '')?.[1];
    const turn = body.messages.filter((m) => m.role === 'assistant').length;
    return turn === 0
      ? { toolCalls: [{ name: 'write_file', arguments: { path: `out/${round}-${n}.txt`, content: `part ${n}\n` } }] }
      : { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }] };
  };
}

/** One Fanout run on `repo`: wall time and the median worktree setup per agent. */
async function fanoutRun(
  repo: string,
  stateDir: string,
  agents: number,
  round: number,
): Promise<{ wall: number; worktree: number; merged: number }> {
  const server = await startScriptedServer({ script: model(agents, round) });
  const llm = new OpenAiLlm({
    baseUrl: server.baseUrl,
    apiKey: 'k',
    model: 'scripted-model',
    timeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    maxRetries: 0,
    stream: true,
  });
  const store = new FileCoordStore(stateDir);
  const deps = {
    llm,
    workspace: new GitWorkspace(),
    runner: new ProcessCommandRunner(),
    store,
    forge: new LocalForge(repo, stateDir),
    probes: new ProbeCache(),
    worktreeRoot: join(stateDir, 'worktrees'),
  };
  const started = await startRun(deps, {
    repoDir: repo,
    task: `Write ${agents} files`,
    config: parseRepoConfig(`maxSubtasks: ${agents}\nmaxAgents: 4\n`),
  });
  const clock = performance.now();
  const report = await executeRun(deps, started.id);
  const wall = performance.now() - clock;
  await server.close();
  const records = await store.listSubtasks(started.id);
  await store.close();
  return {
    wall,
    worktree: median(records.map((record) => record.timings?.worktree ?? 0)),
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
if (!existsSync(SEED)) console.log(`(the seed's mechanics are not here: ${SEED}; only Fanout's figures are printed)`);
for (const [label, where] of locations) {
  console.log(
    `local run against the seed's mechanics, 10,000-file repositories, maxAgents 4, zero model latency (${label}; medians of ${samples})`,
  );
  for (const agents of [1, 4, 16]) {
    const root = await mkdtemp(join(where, 'fanout-bench-run-'));
    const repo = join(root, 'repo');
    const seedRepo = join(root, 'seed-repo');
    await largeRepository(repo, 10_000);
    await largeRepository(seedRepo, 10_000);
    const cold = await fanoutRun(repo, join(root, 'state'), agents, 1);
    const seeds: number[] = [];
    const warms: Array<Awaited<ReturnType<typeof fanoutRun>>> = [];
    for (let sample = 0; sample < samples; sample += 1) {
      const seed = await seedRun(seedRepo, agents, where);
      if (seed !== null) seeds.push(seed);
      warms.push(await fanoutRun(repo, join(root, 'state'), agents, sample + 2));
    }
    const seed = seeds.length > 0 ? median(seeds) : null;
    const warm = median(warms.map((result) => result.wall));
    const merged = Math.min(cold.merged, ...warms.map((result) => result.merged));
    const add = await coldWorktreeAdd(repo, root);
    const ratio = (ms: number) => (seed ? ` => Fanout/seed ${(ms / seed).toFixed(2)}` : '');
    console.log(
      `  N=${String(agents).padStart(2)}  seed ${seed ? seconds(seed) : '-'} (per agent ${seed ? seconds(seed / agents) : '-'}); every run merged ${merged}/${agents}`,
    );
    console.log(`        Fanout first run (cold worktrees) ${seconds(cold.wall)}${ratio(cold.wall)}`);
    console.log(`        Fanout later runs (warm worktrees) ${seconds(warm)}${ratio(warm)}`);
    const setup = median(warms.map((result) => result.worktree));
    console.log(
      `        worktree setup per agent, later runs: ${setup.toFixed(0)} ms vs ${add.toFixed(0)} ms for a cold git worktree add => ${(setup / add).toFixed(2)}`,
    );
    await rm(root, { recursive: true, force: true });
  }
}
console.log(`  peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
