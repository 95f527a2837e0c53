// Orchestration overhead of a whole local run: N = 1, 4, 16 scripted agents with zero model
// latency on a 10,000-file repository. Each agent writes one file and finishes, so what is
// measured is Fanout: worktrees, detection, commits, merges, cleanup.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function model(agents: number) {
  return (request: RecordedRequest): ScriptedReply => {
    const body = request.body;
    if (body.tools?.some((tool) => tool.function.name === 'record_sum')) return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
    if (body.response_format?.json_schema?.name === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
    if (body.response_format?.json_schema?.name === 'plan') {
      const subtasks = Array.from({ length: agents }, (_, n) => ({ id: `part-${n}`, title: `Part ${n}`, instructions: `Write out/part-${n}.txt`, writeScope: [`out/part-${n}.txt`], readScope: [], dependsOn: [] }));
      return { content: JSON.stringify({ subtasks }) };
    }
    const n = /Your subtask: Part (\d+)/.exec(body.messages.find((m) => m.role === 'user')?.content ?? '')?.[1];
    const turn = body.messages.filter((m) => m.role === 'assistant').length;
    return turn === 0
      ? { toolCalls: [{ name: 'write_file', arguments: { path: `out/part-${n}.txt`, content: `part ${n}\n` } }] }
      : { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }] };
  };
}

async function measure(agents: number, where: string): Promise<void> {
  const root = await mkdtemp(join(where, 'fanout-bench-run-'));
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  await largeRepository(repo, 10_000);
  const server = await startScriptedServer({ script: model(agents) });
  const llm = new OpenAiLlm({ baseUrl: server.baseUrl, apiKey: 'k', model: 'scripted-model', timeoutMs: 30_000, idleTimeoutMs: 30_000, maxRetries: 0, stream: true });
  const store = new FileCoordStore(stateDir);
  const deps = { llm, workspace: new GitWorkspace(), runner: new ProcessCommandRunner(), store, forge: new LocalForge(repo, stateDir), probes: new ProbeCache(), worktreeRoot: join(stateDir, 'worktrees') };
  const config = parseRepoConfig(`maxSubtasks: ${agents}\nmaxAgents: 4\n`);
  const run = await startRun(deps, { repoDir: repo, task: `Write ${agents} files`, config });

  // Detection: from the last agent's final record to the orchestrator moving on to merging.
  let lastAgentDone = 0;
  let mergingSeen = 0;
  const unsubscribe = store.watch(run.id, (change) => {
    void (async () => {
      if (change.kind === 'subtask') {
        const record = await store.getSubtask(run.id, change.subtaskId);
        if (record?.state === 'succeeded' && !record.merge) lastAgentDone = Math.max(lastAgentDone, performance.now());
      }
      if (change.kind === 'run' && !mergingSeen && (await store.getRun(run.id))?.state === 'merging') mergingSeen = performance.now();
    })();
  });
  const started = performance.now();
  const report = await executeRun(deps, run.id);
  const wall = performance.now() - started;
  unsubscribe();
  await server.close();
  const records = await store.listSubtasks(run.id);
  const phase = (name: 'worktree' | 'agent' | 'commit' | 'cleanup' | 'merge') => median(records.map((record) => record.timings?.[name] ?? 0));
  const merged = report.subtasks.filter((subtask) => subtask.merged).length;
  const perAgentOverhead = phase('worktree') + phase('commit') + phase('cleanup') + phase('merge');
  console.log(
    `  N=${String(agents).padStart(2)}  wall ${(wall / 1000).toFixed(2)} s  merged ${merged}/${agents}  per agent (median): worktree ${phase('worktree').toFixed(0)} ms, agent loop ${phase('agent').toFixed(0)} ms, commit ${phase('commit').toFixed(0)} ms, cleanup ${phase('cleanup').toFixed(0)} ms, merge ${phase('merge').toFixed(0)} ms/PR  => overhead ${perAgentOverhead.toFixed(0)} ms/agent; detection ${Math.max(0, mergingSeen - lastAgentDone).toFixed(0)} ms`,
  );
  const first = (await git(repo, 'rev-list', '--count', '--first-parent', 'main')).trim();
  if (Number(first) !== agents + 1) console.log(`  warning: main has ${first} first-parent commits, expected ${agents + 1}`);
  await rm(root, { recursive: true, force: true });
}

const locations: Array<[string, string]> = [['disk', tmpdir()], ...(existsSync('/dev/shm') ? [['tmpfs', '/dev/shm'] as [string, string]] : [])];
for (const [label, where] of locations) {
  console.log(`local run overhead, 10,000-file repository, maxAgents 4, zero model latency (${label})`);
  for (const agents of [1, 4, 16]) await measure(agents, where);
}
console.log(`  peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
