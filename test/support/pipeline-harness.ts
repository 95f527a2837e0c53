import { join } from 'node:path';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { executeRun } from '../../src/orchestrate/execute-run.js';
import type { RunReport } from '../../src/report/run-report.js';
import type { PipelineDeps } from '../../src/orchestrate/pipeline-deps.js';
import { ProbeCache } from '../../src/orchestrate/probe-cache.js';
import { startRun } from '../../src/orchestrate/start-run.js';
import type { Script } from '../../src/scripted-model/types.js';
import { scriptedLlm } from './scripted-llm.js';
import { tempDir } from './temp-dir.js';
import { createAgentBackends } from '../../src/main.js';

/** A sample repository, file store, local forge and scripted model, wired like `fanout run`. */
export async function pipelineHarness(
  script: Script,
  options: { files?: Record<string, string>; config?: string } = {},
) {
  const root = await tempDir('fanout-pipeline-');
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  const files = {
    ...(options.files ?? SAMPLE_FILES),
    ...(options.config !== undefined ? { '.github/fanout.yml': options.config } : {}),
  };
  await createRepository(repo, files);
  const { llm, server } = await scriptedLlm(script, { timeoutMs: 10_000 });
  const runner = new ProcessCommandRunner();
  const deps: PipelineDeps = {
    llm,
    // Built from the deps at each use: a test that swaps the runner (a sandbox) swaps it for the agents too.
    agents: (name) => createAgentBackends(deps.llm, deps.runner)(name),
    workspace: new GitWorkspace(),
    runner,
    store: new FileCoordStore(stateDir),
    forge: new LocalForge(repo, stateDir),
    probes: new ProbeCache(),
    worktreeRoot: join(stateDir, 'worktrees'),
    limits: { stallMs: 5_000 },
  };
  const config = parseRepoConfig(files['.github/fanout.yml'] ?? null);
  const run = async (task = 'Do the task') => {
    const started = await startRun(deps, { repoDir: repo, task, config });
    return executeRun(deps, started.id);
  };
  return { root, repo, stateDir, deps, server, run, config };
}

/** The subtasks' outcomes and the run error, as a failing assertion's message (a rare CI failure must say why). */
export function whyNot(report: RunReport): string {
  const lines = report.subtasks.map(
    (subtask) =>
      `${subtask.id}: ${subtask.state}${subtask.failure ? ` (${subtask.failure.reason}: ${subtask.failure.message})` : ''}${subtask.merged ? ' merged' : ''}`,
  );
  return ['run outcome:', ...lines, ...(report.error ? [`error: ${report.error}`] : [])].join('\n');
}
