import { join } from 'node:path';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { GitWorkspace } from '../../src/adapters/workspace/git-workspace.js';
import { BuiltinAgentBackend } from '../../src/agent/builtin/builtin-backend.js';
import { DEFAULT_LIMITS, type AgentLimits } from '../../src/agent/limits.js';
import { storeReporter } from '../../src/agent/reporter.js';
import { runSubtask, type RunSubtaskInput, type SubtaskOutcome } from '../../src/agent/run-subtask.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { Subtask } from '../../src/domain/plan.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { outlineRepository } from '../../src/domain/repo-outline.js';
import type { AgentBackend } from '../../src/ports/agent-backend.js';
import type { CommandRunner } from '../../src/ports/command-runner.js';
import type { Workspace } from '../../src/ports/workspace.js';
import type { Script } from '../../src/scripted-model/types.js';
import { scriptedLlm } from './scripted-llm.js';
import { tempDir } from './temp-dir.js';

export const SHOUT_SUBTASK: Subtask = {
  id: 'shout',
  title: 'Add a shout option',
  instructions: 'Give greet(name, options) an optional { shout: true } that upper-cases the greeting.',
  writeScope: ['src/greet.js', 'test/shout.test.js'],
  readScope: ['src/index.js'],
  dependsOn: [],
};

/** A sample repository, a scripted model and a store, and a function that runs one subtask against them. */
export async function agentHarness(
  script: Script,
  options: {
    limits?: Partial<AgentLimits>;
    subtask?: Subtask;
    maxAttempts?: number;
    workspace?: (git: GitWorkspace) => Workspace;
    /** Extra files in the sample repository. */
    files?: Record<string, string>;
    /** As a run with validation passes it: the worktree is held after the commit (and released by `run`). */
    keepWorktree?: boolean;
    /** Another backend than the built-in agent on the scripted model (given the runner). */
    backend?: (runner: CommandRunner) => AgentBackend;
    /** Each attempt's model access (what the gateway grants in a run). */
    modelAccess?: RunSubtaskInput['modelAccess'];
    /** The run's cancel. */
    signal?: AbortSignal;
    /** Where commands run (default: plain processes). */
    runner?: CommandRunner;
  } = {},
) {
  const root = await tempDir('fanout-agent-');
  const repo = join(root, 'repo');
  await createRepository(repo, { ...SAMPLE_FILES, ...options.files });
  const git = new GitWorkspace();
  const workspace = options.workspace?.(git) ?? git;
  const baseCommit = await workspace.resolveCommit(repo, 'HEAD');
  const { llm, server } = await scriptedLlm(script);
  const store = new MemoryCoordStore();
  const subtask = options.subtask ?? SHOUT_SUBTASK;
  const runId = 'run1';
  await store.putSubtask({
    runId,
    subtaskId: subtask.id,
    state: 'running',
    attempt: 1,
    step: 0,
    updatedAt: new Date().toISOString(),
  });
  const runner = options.runner ?? new ProcessCommandRunner();
  const outline = outlineRepository(await workspace.listFiles(repo, baseCommit));
  // As a run does (executeRun's last step), once the worktree it released has been tidied.
  const run = async (): Promise<SubtaskOutcome> => {
    try {
      const outcome = await runSubtaskOnce();
      if (outcome.kind === 'succeeded') await outcome.held?.release();
      return outcome;
    } finally {
      await workspace.settled();
    }
  };
  const runSubtaskOnce = (): Promise<SubtaskOutcome> =>
    runSubtask({
      outline,
      backend: options.backend?.(runner) ?? new BuiltinAgentBackend(llm, runner),
      ...(options.modelAccess ? { modelAccess: options.modelAccess } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      workspace,
      runner,
      repoDir: repo,
      runId,
      baseCommit,
      subtask,
      protectedPaths: protectedPaths(),
      worktreeRoot: join(root, 'worktrees'),
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      reporterFor: (attempt) => storeReporter(store, runId, subtask.id, `${subtask.id}-${attempt}`),
      maxAttempts: options.maxAttempts ?? 2,
      ...(options.keepWorktree !== undefined ? { keepWorktree: options.keepWorktree } : {}),
    });
  /** Resolves once an agent of the run logged an event of this type. */
  const waitForEvent = (type: string) =>
    new Promise<void>((resolve) => {
      const stop = store.watch(runId, (change) => {
        if (change.kind !== 'event') return;
        void store.readEvents(runId, change.agentId, change.seq - 1).then((events) => {
          if (!events.some((event) => event.type === type)) return;
          stop();
          resolve();
        });
      });
    });
  return { root, repo, baseCommit, server, store, run, runId, subtask, workspace, waitForEvent };
}
