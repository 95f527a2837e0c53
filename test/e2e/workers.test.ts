import { execFile, spawn } from 'node:child_process';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it, vi } from 'vitest';
import { RedisCoordStore } from '../../src/adapters/coord/redis-store.js';
import { BullJobQueue } from '../../src/adapters/queue/bullmq-job-queue.js';
import { main } from '../../src/cli/main.js';
import { moveRun } from '../../src/domain/run-transitions.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { captureOutput } from '../support/capture-output.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-processes.js';
import { withTsxCache } from '../support/tsx-cache.js';

const exec = promisify(execFile);
const CLI = join(process.cwd(), 'src/cli/main.ts');
const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();
const PARTS = ['a', 'b', 'c', 'd'];
const writes = (path: string): ScriptedReply[] => [
  call('read_file', { path: 'README.md' }),
  call('write_file', { path, content: `${path}\n` }),
  finish(),
];

const workers: WorkerProcess[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const worker of workers.splice(0)) worker.kill('SIGKILL');
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A repository, a scripted model for four parts, and the environment every process of the deployment gets. */
async function deployment(
  options: {
    /** Called before each agent's model call (and the planner's, with title `plan`); the reply waits for it. */
    hold?: (title: string, turn: number, fix: boolean) => Promise<void>;
    parts?: (task: string) => string[];
    config?: string;
    /** Turns per part title for fix attempts. */
    fixes?: Record<string, ScriptedReply[]>;
  } = {},
) {
  const root = await tempDir('fanout-workers-');
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  await createRepository(repo, {
    ...SAMPLE_FILES,
    '.github/fanout.yml': options.config ?? 'maxSubtasks: 4\nmaxAgents: 4\n',
  });
  const allParts = options.parts ? [...options.parts('1'), ...options.parts('2')] : PARTS;
  const brain = scriptedBrain({
    plan: PARTS.map((part) => ({ id: part, title: `Part ${part}`, writeScope: [`${part}.txt`] })),
    agents: Object.fromEntries(allParts.map((part) => [`Part ${part}`, writes(`${part}.txt`)])),
    ...(options.fixes ? { fixes: options.fixes } : {}),
  });
  const { server } = await scriptedLlm(async (request) => {
    const first = request.body.messages.find((message) => message.role === 'user')?.content ?? '';
    // Each run plans parts of its own: the task names its set.
    if (options.parts && request.body.response_format?.json_schema?.name === 'plan') {
      const set = /set (\d)/.exec(JSON.stringify(request.body.messages))?.[1] ?? '1';
      const subtasks = options.parts(set).map((part) => ({
        id: part,
        title: `Part ${part}`,
        instructions: `Do: Part ${part}`,
        writeScope: [`${part}.txt`],
        readScope: [],
        dependsOn: [],
      }));
      return { content: JSON.stringify({ subtasks }) };
    }
    const planning = request.body.response_format?.json_schema?.name === 'plan';
    const title = planning ? 'plan' : /Your subtask: (.+)/.exec(first)?.[1]?.trim();
    const turn = request.body.messages.filter((message) => message.role === 'assistant').length;
    const fix = first.includes('Your earlier work on this subtask is already committed');
    if (title && options.hold) await options.hold(title, turn, fix);
    return brain.reply(request);
  });
  const prefix = testPrefix();
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    FANOUT_REDIS_PREFIX: prefix,
    FANOUT_STATE_DIR: stateDir,
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_API_KEY: 'k',
    FANOUT_MODEL: 'scripted-model',
    FANOUT_SANDBOX: 'none',
    FANOUT_ALLOW_ROOT_NONE: '1',
    FANOUT_JOB_LOCK_MS: '1000',
    FANOUT_LOCK_TTL_MS: '1000',
    TMPDIR: withTsxCache(root),
  };
  const store = new RedisCoordStore(TEST_REDIS_URL, prefix);
  const jobs = new BullJobQueue(TEST_REDIS_URL, { prefix, lockMs: 1000 });
  closers.push(
    () => store.close(),
    () => jobs.close(),
  );
  const worker = (extra: Record<string, string> = {}, args: string[] = ['--concurrency', '2']) => {
    const started = spawnWorker({ ...env, ...extra }, args);
    workers.push(started);
    return started;
  };
  /** `fanout run` in this process, as a user with REDIS_URL set runs it: the model is the workers' business. */
  const run = async (task = 'Write four files') => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'FANOUT_MODEL']) vi.stubEnv(name, undefined);
    const output = captureOutput();
    const code = await main(['run', '--repo', repo, '--json', task], output);
    return { code, report: JSON.parse(output.stdout()), output };
  };
  /** Landed commits per pull request number on main. */
  const merges = async () => {
    const subjects = (await git(repo, 'log', '--first-parent', '--format=%s', 'main')).split('\n');
    const counts: Record<string, number> = {};
    for (const subject of subjects) {
      const number = /\(#(\d+)\)$/.exec(subject)?.[1];
      if (number) counts[number] = (counts[number] ?? 0) + 1;
    }
    return counts;
  };
  return { root, repo, stateDir, env, store, jobs, worker, run, merges, brain };
}

describeWithRedis('several machines: workers on Redis', () => {
  it('waits while no worker runs, and proceeds once one starts', async () => {
    const d = await deployment();
    const running = d.run();
    // Queued and waiting: the run is recorded, its pass not taken, no model called.
    await vi.waitFor(async () => expect(await d.jobs.waiting('runs')).toBe(1), { timeout: 10_000 });
    const [queued] = await d.store.listRuns();
    expect(queued).toMatchObject({ state: 'planning' });
    expect(d.brain.requestsFor('Part a')).toBe(0);
    d.worker();
    const { code, report } = await running;
    expect(code).toBe(0);
    expect(report.subtasks).toHaveLength(4);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1]);
  });

  it('runs the jobs of a worker killed mid-job (SIGKILL) again on another: every subtask merged exactly once', async () => {
    const d = await deployment();
    // This one kills itself at its first agent's first tool call: it holds the run's pass too.
    const doomed = d.worker({ FANOUT_FAILPOINT: 'mid-agent' }, ['--concurrency', '1']);
    const running = d.run();
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const survivor = d.worker();
    const { code, report, output } = await running;
    expect(code, output.stderr()).toBe(0);
    expect(report.subtasks.every((subtask: { merged?: string }) => subtask.merged)).toBe(true);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1]);
    const branches = (await git(d.repo, 'branch', '--list', 'fanout/*')).split('\n').filter(Boolean);
    expect(branches).toHaveLength(4);
    // The lost attempt counts: the subtask it ran was started again on the survivor.
    const lost = report.subtasks.find((subtask: { attempts: number }) => subtask.attempts > 1);
    expect(lost?.ranOn).toBe(`${lost?.ranOn.split(':')[0]}:${survivor.pid}`);
  });

  it('runs two runs on two worker processes: agents on both (never in the CLI), the repository merged by one at a time', async () => {
    // The first two agents wait for each other: two worker processes run agents at once.
    const arrived = new Set<string>();
    let both: () => void = () => undefined;
    const together = new Promise<void>((resolve) => (both = resolve));
    const d = await deployment({
      parts: (set) => ['a', 'b', 'c'].map((part) => `${part}${set}`),
      hold: async (title, turn) => {
        if (title === 'plan' || turn !== 0 || arrived.size >= 2) return;
        arrived.add(title);
        if (arrived.size === 2) both();
        await together;
      },
    });
    const first = d.worker({}, ['--concurrency', '1']);
    const second = d.worker({}, ['--concurrency', '1']);
    const [one, two] = await Promise.all([d.run('Write files, set 1'), d.run('Write files, set 2')]);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1, 1, 1]);
    const ranOn = new Set(
      [...one.report.subtasks, ...two.report.subtasks].map((subtask: { ranOn: string }) =>
        Number(subtask.ranOn.split(':')[1]),
      ),
    );
    expect([...ranOn].sort()).toEqual([first.pid, second.pid].sort());
    // Every time a worker held the merge queue, from its own log: taken, released, never overlapping.
    const held = [first, second].flatMap((worker) => {
      const events = worker.lines.flatMap((line) => {
        const match = /^(\S+) merge queue of .* (taken|released) by \S+ \(token (\d+)\)$/.exec(line);
        return match ? [{ at: Date.parse(match[1]!), what: match[2]!, token: Number(match[3]) }] : [];
      });
      return events
        .filter((event) => event.what === 'taken')
        .map((taken) => ({
          from: taken.at,
          to: events.find((event) => event.what === 'released' && event.token === taken.token)!.at,
          token: taken.token,
        }));
    });
    expect(held.length).toBeGreaterThanOrEqual(2);
    held.sort((a, b) => a.from - b.from || a.token - b.token);
    for (let index = 1; index < held.length; index += 1) {
      expect(held[index]!.from).toBeGreaterThanOrEqual(held[index - 1]!.to);
      expect(held[index]!.token).toBeGreaterThan(held[index - 1]!.token);
    }
  });

  it("holds a repository's maxAgents across workers: never more of its agents at once than that", async () => {
    const inFlight = new Set<string>();
    let most = 0;
    let wake: () => void = () => undefined;
    const d = await deployment({
      config: 'maxSubtasks: 4\nmaxAgents: 2\n',
      hold: async (title, turn) => {
        if (title === 'plan') return;
        if (turn === 0) {
          inFlight.add(title);
          most = Math.max(most, inFlight.size);
          wake();
          // Each agent waits until a second one runs (or a moment passes): room for a third to show up if it could.
          await Promise.race([
            new Promise<void>((resolve) => (wake = resolve)),
            new Promise((resolve) => setTimeout(resolve, 1_000)),
          ]);
        }
        if (turn === 2) inFlight.delete(title);
      },
    });
    d.worker({}, ['--concurrency', '2']);
    d.worker({}, ['--concurrency', '2']);
    const { code } = await d.run();
    expect(code).toBe(0);
    expect(most).toBe(2);
  });

  it('drains on SIGTERM: the job in hand finishes, no new one is taken, and it exits 0', async () => {
    let held: () => void = () => undefined;
    const release = new Promise<void>((resolve) => (held = resolve));
    let holding: (title: string) => void = () => undefined;
    const firstAgent = new Promise<string>((resolve) => (holding = resolve));
    const d = await deployment({
      hold: async (title, turn) => {
        if (title === 'plan' || turn !== 0) return;
        holding(title);
        if ((await firstAgent) === title) await release;
      },
    });
    const draining = d.worker({}, ['--concurrency', '1']);
    const running = d.run();
    const title = await firstAgent;
    draining.kill('SIGTERM');
    await draining.waitFor(/SIGTERM: taking no new job/);
    held();
    expect(await draining.exited).toEqual({ code: 0, signal: null });
    const after = draining.lines.slice(draining.lines.findIndex((line) => line.includes('SIGTERM')));
    expect(after.filter((line) => line.includes(': started'))).toEqual([]);
    // The rest waits for a worker.
    d.worker();
    const { code, report } = await running;
    expect(code).toBe(0);
    const drained = report.subtasks.find((subtask: { title: string }) => subtask.title === title);
    expect(drained.ranOn.endsWith(`:${draining.pid}`)).toBe(true);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1]);
  });

  it('stops a cancelled run on the workers: the agent under way stops, queued ones never start, nothing is opened', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived: (title: string) => void = () => undefined;
    const first = new Promise<string>((resolve) => (arrived = resolve));
    const d = await deployment({
      config: 'maxSubtasks: 4\nmaxAgents: 1\n',
      hold: async (title, turn) => {
        if (title === 'plan' || turn !== 0) return;
        arrived(title);
        await released;
      },
    });
    d.worker();
    const running = d.run();
    const held = await first;
    const [run] = await d.store.listRuns();
    // What `/orchestrate cancel` does when the run's pass is on another machine.
    await d.store.updateRun(run!.id, moveRun(run!, 'cancelled', { error: 'cancelled by @maintainer' }));
    release();
    const { code, report } = await running;
    expect(code).toBe(1);
    expect(report.state).toBe('cancelled');
    expect(report.subtasks.every((subtask: { pr?: unknown }) => subtask.pr === undefined)).toBe(true);
    for (const part of PARTS) if (`Part ${part}` !== held) expect(d.brain.requestsFor(`Part ${part}`)).toBe(0);
    expect(await d.merges()).toEqual({});
  });

  it('runs again a fix attempt whose worker was killed under it, and the fixed pull request merges', async () => {
    let arrived: () => void = () => undefined;
    const fixing = new Promise<void>((resolve) => (arrived = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const d = await deployment({
      parts: () => ['a'],
      // Green on the base; red once a.txt says "a.txt", until the fix rewrites it; the red check sends the agent back.
      config: "maxSubtasks: 1\nvalidate:\n  - '! grep -qx a.txt a.txt 2>/dev/null'\nfixOnRedCheck: true\n",
      fixes: { 'Part a': [call('write_file', { path: 'a.txt', content: 'fixed\n' }), finish('Fixed.')] },
      hold: async (title, turn, fix) => {
        if (!fix || turn !== 0) return;
        arrived();
        await released;
      },
    });
    const doomed = d.worker();
    const running = d.run('Write files, set 1');
    await fixing;
    doomed.kill('SIGKILL');
    await doomed.exited;
    d.worker();
    release();
    const { code, report, output } = await running;
    expect(code, output.stderr()).toBe(0);
    expect(report.subtasks[0].merged).toBeTruthy();
    // The killed attempt is on record as interrupted, and the one run again in its place fixed it.
    expect(report.subtasks[0].fixes.map((fix: { state: string }) => fix.state)).toEqual(['not-fixed', 'pushed']);
    expect(await git(d.repo, 'show', 'main:a.txt')).toBe('fixed');
  });

  it('goes on with a run whose orchestrating worker was killed three times', async () => {
    let release: () => void = () => undefined;
    const planned = new Promise<void>((resolve) => (release = resolve));
    const d = await deployment({
      hold: async (title) => {
        if (title === 'plan') await planned;
      },
    });
    const running = d.run();
    for (let kill = 0; kill < 3; kill += 1) {
      const doomed = d.worker({}, ['--concurrency', '1']);
      await doomed.waitFor(/pass over run .*: started/);
      doomed.kill('SIGKILL');
      await doomed.exited;
    }
    d.worker();
    release();
    const { code } = await running;
    expect(code).toBe(0);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1]);
  });

  it('records why a pass failed (the repository out of reach), and resume goes on once it is back', async () => {
    const d = await deployment();
    const running = d.run();
    await vi.waitFor(async () => expect(await d.jobs.waiting('runs')).toBe(1), { timeout: 10_000 });
    await rename(d.repo, `${d.repo}.away`);
    d.worker();
    const { code, report } = await running;
    expect(code).toBe(1);
    expect(report.state).not.toBe('cancelled');
    expect(report.error).toContain('a pass over the run failed');
    expect(report.error).toContain(`fanout resume ${report.runId}`);
    await rename(`${d.repo}.away`, d.repo);
    const output = captureOutput();
    expect(await main(['resume', report.runId, '--json'], output)).toBe(0);
    expect(Object.values(await d.merges())).toEqual([1, 1, 1, 1]);
  });

  it('lets Ctrl-C stop watching a queued run: `fanout run` exits, the run stays queued', async () => {
    const d = await deployment();
    const cli = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--repo', d.repo, 'Write four files'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...d.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    const queued = new Promise<void>((resolve) =>
      cli.stdout!.on('data', (chunk: Buffer) => {
        printed += chunk.toString();
        if (printed.includes('Queued')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    await queued;
    cli.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(await d.jobs.waiting('runs')).toBe(1);
  });
});
