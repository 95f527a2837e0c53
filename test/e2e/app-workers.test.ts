import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it, vi } from 'vitest';
import { RedisCoordStore } from '../../src/adapters/coord/redis-store.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { appHarness, OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import { describeWithRedis, TEST_REDIS_URL, testPrefix } from '../support/require-redis.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-processes.js';
import { withTsxCache } from '../support/tsx-cache.js';

const exec = promisify(execFile);
const PLAN = [
  { id: 'one', title: 'First part', writeScope: ['one.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];
const writes = (path: string): ScriptedReply[] => [call('write_file', { path, content: `${path}\n` }), finish()];

let harness: AppHarness | undefined;
const workers: WorkerProcess[] = [];
const stores: RedisCoordStore[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) worker.kill('SIGKILL');
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await harness?.close();
  harness = undefined;
});

describeWithRedis('the GitHub App on several machines', () => {
  it('queues /orchestrate on Redis; workers with their own clones plan, open the pull requests and merge them', async () => {
    const prefix = testPrefix();
    const redis = { REDIS_URL: TEST_REDIS_URL, FANOUT_REDIS_PREFIX: prefix };
    const h = (harness = await appHarness({
      script: scriptedBrain({
        plan: PLAN,
        agents: { 'First part': writes('one.txt'), 'Second part': writes('two.txt') },
      }).reply,
      env: redis,
      // No CI appears on the fake: each merge waits out this grace, ended by a delayed job (no webhook comes).
      files: { '.github/fanout.yml': 'validate: []\nwaitForChecksSeconds: 2\n' },
    }));
    const github = new URL(h.fake.url);
    // Each worker has a state directory of its own: on GitHub, every worker fetches from GitHub.
    for (const name of ['w1', 'w2'])
      workers.push(
        spawnWorker({
          ...redis,
          APP_ID: String(h.fake.appId),
          PRIVATE_KEY: h.fake.privateKey,
          GHE_HOST: github.host,
          GHE_PROTOCOL: 'http',
          OPENAI_BASE_URL: h.model.baseUrl,
          OPENAI_API_KEY: 'k',
          FANOUT_MODEL: 'scripted-model',
          FANOUT_STATE_DIR: join(h.root, name),
          FANOUT_SANDBOX: 'none',
          FANOUT_ALLOW_ROOT_NONE: '1',
          FANOUT_JOB_LOCK_MS: '1000',
          FANOUT_LOCK_TTL_MS: '1000',
          LOG_LEVEL: 'fatal',
          FANOUT_GITHUB_THROTTLE: 'off',
          TMPDIR: withTsxCache(h.root),
        }),
      );
    const store = new RedisCoordStore(TEST_REDIS_URL, prefix);
    stores.push(store);

    expect((await h.comment('/orchestrate Write two files')).status).toBe(200);
    await vi.waitFor(
      async () => {
        const [run] = await store.listRuns();
        // Why not, if it fails: what each worker did.
        const why = workers.map((worker) => worker.lines.join('\n')).join('\n---\n');
        expect(run?.state, why).toBe('succeeded');
      },
      { timeout: 60_000, interval: 100 },
    );
    const pulls = [...h.fake.repo(OWNER, REPO).pulls.values()];
    expect(pulls.map((pull) => pull.merged)).toEqual([true, true]);
    for (const pull of pulls) {
      const checks = h.fake.repo(OWNER, REPO).checkRuns.filter((check) => check.headSha === pull.lastHeadSha);
      const first = Math.min(...checks.map((check) => Date.parse(check.startedAt)));
      expect(Date.parse(pull.mergedAt!) - first).toBeGreaterThanOrEqual(2_000);
    }
    const main = (path: string) =>
      exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'show', `main:${path}`]).then(({ stdout }) => stdout);
    expect(await main('one.txt')).toBe('one.txt\n');
    expect(await main('two.txt')).toBe('two.txt\n');
    // The status comment, kept by the workers, ends as the report.
    await vi.waitFor(() => expect(h.issueComments().join('\n')).toContain('✅ Done: everything merged'), {
      timeout: 10_000,
    });
    expect(h.issueComments()).toHaveLength(1);
    const [run] = await store.listRuns();
    const ranOn = (await store.listSubtasks(run!.id)).map((record) => Number(record.ranOn?.split(':')[1]));
    expect(ranOn.every((pid) => workers.some((worker) => worker.pid === pid))).toBe(true);
  }, 90_000);
});
