// What each agent backend costs Fanout per agent, beside the built-in agent's: from the agent's
// start to its first model answer (its first call, answered at once) (a CLI's process start, its sandbox, the relay to the gateway),
// and from the model's last answer to the commit. Each backend does the same zero-latency work
// (write one file, answer), as `fanout run` runs it: runSubtask in a worktree, the bwrap sandbox,
// a real gateway in front of a scripted model. Medians of RUNS attempts; ratios to the built-in.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCoordStore } from '../src/adapters/coord/memory-store.js';
import { LazyGatewayGrants } from '../src/adapters/gateway/lazy-gateway-grants.js';
import { GitWorkspace } from '../src/adapters/workspace/git-workspace.js';
import { DEFAULT_LIMITS } from '../src/agent/limits.js';
import { storeReporter } from '../src/agent/reporter.js';
import { runSubtask } from '../src/agent/run-subtask.js';
import { loadEnv } from '../src/config/env.js';
import { createRepository } from '../src/demo/sample-repo.js';
import type { AgentBackendName } from '../src/domain/agent-backend.js';
import { protectedPaths } from '../src/domain/protected-paths.js';
import { createAgentBackends, createCommandRunner, createLlm } from '../src/main.js';
import type { AgentReporter } from '../src/ports/agent-backend.js';
import { anthropicSteps, openAiChatSteps, responsesSteps, type StepServer } from '../test/support/agent-steps.js';
import { median, ms } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SUBJECTS: Array<{ name: AgentBackendName; model: string; server: () => Promise<StepServer> }> = [
  { name: 'builtin', model: 'gpt-4.1-mini', server: openAiChatSteps },
  { name: 'claude-code', model: 'claude-sonnet-4-5', server: anthropicSteps },
  { name: 'codex', model: 'gpt-5.5', server: responsesSteps },
];

const root = await mkdtemp(join(tmpdir(), 'fanout-bench-agents-'));
const repo = join(root, 'repo');
await createRepository(repo);
const env = loadEnv({ FANOUT_SANDBOX: 'bwrap', FANOUT_STATE_DIR: join(root, 'state') });
const { runner } = createCommandRunner(env, { checkout: repo });
const workspace = new GitWorkspace();
const baseCommit = await workspace.resolveCommit(repo, 'HEAD');
const results = new Map<string, { toFirstCall: number[]; toCommit: number[] }>();

for (const subject of SUBJECTS) {
  const times = { toFirstCall: [] as number[], toCommit: [] as number[] };
  results.set(subject.name, times);
  const server = await subject.server();
  const grants = new LazyGatewayGrants({
    upstreams: {
      openai: { baseUrl: server.upstreams.openai, apiKey: 'sk-bench' },
      anthropic: { baseUrl: server.upstreams.anthropic, apiKey: 'sk-ant-bench' },
    },
  });
  const backend = await createAgentBackends(createLlm(env, { apiKey: 'unused' }), runner, env)(subject.name);
  // One warm-up attempt (the gateway starts, caches fill), then the measured ones.
  for (let run = 0; run <= RUNS; run += 1) {
    const id = `${subject.name}-${run}`;
    const store = new MemoryCoordStore();
    await store.putSubtask({
      runId: 'bench',
      subtaskId: id,
      state: 'running',
      attempt: 1,
      step: 0,
      updatedAt: new Date().toISOString(),
    });
    let started = 0;
    let firstCall = 0;
    let lastAnswer = 0;
    let committed = 0;
    server.play([{ write: 'NOTES.md', content: `notes ${id}\n` }, { answer: 'Wrote the notes.' }]);
    const events: AgentReporter = {
      ...storeReporter(store, 'bench', id, `${id}-1`),
      async event(type, data) {
        if (type === 'agent-started') started = performance.now();
        if (type === 'committed') committed = performance.now();
        await store.appendEvent('bench', `${id}-1`, { type, ...(data ? { data } : {}) });
      },
    };
    const outcome = await runSubtask({
      backend,
      modelAccess: (attempt, hooks) =>
        grants.grant({
          runId: 'bench',
          subtaskId: id,
          attempt,
          model: subject.model,
          ...hooks,
          onCall: (call) => {
            const now = performance.now();
            if (firstCall === 0) firstCall = now;
            lastAnswer = now;
            hooks.onCall?.(call);
          },
        }),
      workspace,
      runner,
      repoDir: repo,
      runId: 'bench',
      baseCommit,
      subtask: {
        id,
        title: 'Write the notes',
        instructions: 'Write NOTES.md.',
        writeScope: ['NOTES.md'],
        readScope: [],
        dependsOn: [],
      },
      protectedPaths: protectedPaths(),
      worktreeRoot: join(root, 'worktrees'),
      limits: DEFAULT_LIMITS,
      reporterFor: () => events,
      maxAttempts: 1,
    });
    await workspace.settled();
    if (outcome.kind !== 'succeeded') throw new Error(`${subject.name}: ${outcome.reason}: ${outcome.message}`);
    if (run === 0) continue;
    times.toFirstCall.push(firstCall - started);
    times.toCommit.push(committed - lastAnswer);
  }
  await grants.close();
  await server.close();
}

const builtin = results.get('builtin')!;
console.log(`fixed cost per agent, median of ${RUNS} (bwrap sandbox, real gateway, zero-latency model):`);
for (const [name, times] of results) {
  const first = median(times.toFirstCall);
  const commit = median(times.toCommit);
  const ratio = (value: number, base: number) => (name === 'builtin' ? '' : ` (x${(value / base).toFixed(1)})`);
  console.log(
    `  ${name.padEnd(12)} start to first model answer ${ms(first)}${ratio(first, median(builtin.toFirstCall))}, ` +
      `last answer to commit ${ms(commit)}${ratio(commit, median(builtin.toCommit))}`,
  );
}
console.log('the gateway added per model call: npm run bench -- gateway');
await rm(root, { recursive: true, force: true });
