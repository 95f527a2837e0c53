import type { AgentLimits } from '../agent/limits.js';
import type { Failpoint } from '../domain/failpoint.js';
import type { WorktreePreparation } from '../agent/run-subtask.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { PreparationContext } from '../ports/environment.js';
import type { RunRecord, SandboxMode } from '../domain/run.js';
import type { Worktree } from '../ports/workspace.js';
import type { BaselineCache } from './baseline.js';
import type { AgentBackends } from '../ports/agent-backend.js';
import type { ModelGrants } from '../ports/model-grants.js';
import type { CommandRunner } from '../ports/command-runner.js';
import type { CoordStore } from '../ports/coord-store.js';
import type { Forge } from '../ports/forge.js';
import type { Llm } from '../ports/llm.js';
import type { Workspace } from '../ports/workspace.js';
import type { AgentDispatcher } from './dispatcher.js';
import type { ProbeCache } from './probe-cache.js';

/** Everything a run needs, built by the composition root and passed in. */
export interface PipelineDeps {
  /** The planner's model (agents reach theirs through their backend). */
  llm: Llm;
  /** The agent backends this deployment runs, by name (`agent:` in .github/fanout.yml picks one per run). */
  agents: AgentBackends;
  /** The model gateway: each agent attempt gets a credential of its own (without it, agents use `llm`). */
  modelGrants?: ModelGrants;
  workspace: Workspace;
  runner: CommandRunner;
  store: CoordStore;
  forge: Forge;
  probes: ProbeCache;
  /**
   * Runs a merge phase while no other merge of the same repository runs (one queue per
   * repository); `fence` throws once that exclusivity is lost (a lease ran out), and is called
   * before each landing.
   */
  mergeExclusively?: <T>(work: (fence: () => Promise<void>) => Promise<T>) => Promise<T>;
  /** Prepares a worktree before anything runs in it (dependencies installed, files copied). */
  prepareWorktree?: (
    worktree: Worktree,
    config: RepoConfig,
    context: PreparationContext,
  ) => Promise<WorktreePreparation>;
  /** Base commits already validated (a red base stops a run before any agent). */
  baselines?: BaselineCache;
  /** Removes configured secrets from text (tool output on its way to the model). */
  redact?: (text: string) => string;
  /** Called at the run's failpoints; the fault suite kills the process there. */
  failpoint?: Failpoint;
  /** How the runner confines commands, recorded on the run so reports can say so. */
  sandbox?: SandboxMode;
  /** How each command's processes, memory, file size and disk are bounded, in words; recorded on the run. */
  commandLimits?: string;
  /** Worktrees go under `<worktreeRoot>/<runId>/`. */
  worktreeRoot: string;
  /** Overrides of the guard thresholds (budgets come from the repository config). */
  limits?: Partial<AgentLimits>;
  /**
   * Where a run's agent jobs go: by default this process, `maxAgents` at a time, through
   * `runAgentJob`; with several machines, a queue their workers take jobs from.
   */
  dispatcherFor?: (run: RunRecord) => AgentDispatcher;
  signal?: AbortSignal;
  /** Room kept on the state's disk: made as a run starts, given back for its last records when the disk fills. */
  diskReserve?: { keep(): Promise<void>; release(): Promise<void> };
}
