import type { AgentBackendName } from './agent-backend.js';
import type { AgentEventType, SubtaskFailureReason } from './failure.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { ModelCost } from './model-cost.js';
import type { Plan } from './plan.js';

export type RunState =
  'planning' | 'awaiting-approval' | 'running' | 'merging' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
/**
 * How agent commands were confined: `bwrap` (the sandbox), `none` (asked for explicitly), or
 * `none-as-root` (`none` with Fanout running as root: accepted with FANOUT_ALLOW_ROOT_NONE=1, or
 * the demo's own commands).
 */
export type SandboxMode = 'bwrap' | 'none' | 'none-as-root';
export type SubtaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Where a run came from: a repository on this machine, or an `/orchestrate` comment on GitHub. */
export type RunOrigin =
  | { kind: 'local'; path: string }
  | {
      kind: 'github';
      owner: string;
      repo: string;
      installationId: number;
      /** The issue the command was posted on; the status comment lives there. */
      issue: number;
      commentId: number;
      requestedBy: string;
      cloneUrl: string;
      /** The repository's web address (`https://github.com/owner/repo`), for links. */
      htmlUrl: string;
    };

/** The process executing a run, recorded so others can tell a live run from a crashed one. */
export interface RunOwner {
  pid: number;
  host: string;
  since: string;
}

/** One orchestration run, as stored. */
export interface RunRecord {
  id: string;
  /** The git repository agents' worktrees come from: the user's checkout, or Fanout's clone of a GitHub repository. */
  repo: string;
  origin: RunOrigin;
  task: string;
  baseBranch: string;
  baseCommit: string;
  state: RunState;
  /** `.github/fanout.yml` as read from the base commit when the run started. */
  config: RepoConfig;
  /** Extra guidance for the planner (`--hints`). */
  hints?: string;
  /** Facts people should read in the report (planner notes, fallbacks, restored files). */
  notes: string[];
  owner?: RunOwner;
  /** The weakest confinement any of the run's agents had; reports say so when it is `none`. */
  sandbox?: SandboxMode;
  /** How each command's resources were bounded (`cgroup v1 (pids, memory); ...`), by the process that ran it last. */
  commandLimits?: string;
  /** The base commit's validation: the commands that fail there (held against no pull request under `baseline: allow-red`). */
  baseline?: { failing: string[] };
  /** The issue comment Fanout keeps editing with the run's progress (GitHub runs). */
  statusCommentId?: number;
  createdAt: string;
  updatedAt: string;
  /** When the run last reached a finished state (unset while it works): a command that arrived before is part of its burst. */
  finishedAt?: string;
  plan?: Plan;
  /** Why the run stopped, when it failed as a whole. */
  error?: string;
  /** Set when what stopped it goes away by itself (space freed): a plain `resume` goes on. */
  stoppedBy?: 'disk-full';
}

/** One subtask of a run and its agent's progress. */
export interface SubtaskRecord {
  runId: string;
  subtaskId: string;
  state: SubtaskState;
  attempt: number;
  step: number;
  /** When the agent started and when it ended (ISO time), for elapsed time. */
  startedAt?: string;
  finishedAt?: string;
  lastTool?: string;
  branch?: string;
  worktreePath?: string;
  commit?: string;
  filesChanged?: string[];
  summary?: string;
  failureReason?: SubtaskFailureReason;
  failureMessage?: string;
  tokens?: { prompt: number; completion: number };
  /** What its model calls cost, every attempt and fix attempt added (recorded where a gateway priced them). */
  cost?: ModelCost;
  /** Pull request opened for the subtask's branch. */
  pr?: { number: number; url: string; headSha: string };
  /** Latest validation of the PR's head. */
  check?: { passed: boolean; headSha: string; summary: string; durationMs: number; failed?: FailedCommand[] };
  approved?: boolean;
  /** Files of the shared git directory (config, hooks) this subtask's commands changed; Fanout put them back. */
  reverted?: string[];
  merge?:
    | { state: 'merged'; sha: string; approvedBy?: string }
    | { state: 'failed'; reason: MergeFailureReason; message: string }
    | {
        state: 'waiting';
        reason: MergeWaitReason;
        message: string;
        /** When the wait ends by itself (a grace period for CI to appear): the queue looks again then. */
        retryAt?: string;
      };
  /**
   * Heads Fanout made by merging the base into the PR's branch, each with the head it was made
   * from: an approval of `from` stands for `to` (the approver saw its changes; the rest is the base).
   */
  baseUpdates?: BaseUpdate[];
  /**
   * What this subtask spent before `resume --retry-failed` started it over: its attempts and
   * logs keep their numbers after these, and reports count the tokens too.
   */
  earlier?: { attempts: number; tokens: { prompt: number; completion: number }; cost?: ModelCost };
  /**
   * The latest dispatch of this subtask's agent (its job's generation), and whether it is over
   * (the subtask was started over since): an orchestrator that takes a run over waits for a
   * dispatch that is not over instead of queueing a second job.
   */
  dispatch?: { generation: number; over?: boolean };
  /** Where the agent ran last, `host:pid` (with several workers: which machine and process). */
  ranOn?: string;
  /** Which agent backend ran the last attempt (reports name it). */
  agent?: AgentBackendName;
  /** Fix requests not yet acted on, oldest first (reviews, `fix` commands, red checks). */
  fixRequests?: FixTrigger[];
  /** Fix attempts on the pull request, oldest first (capped by `maxFixAttempts`). */
  fixes?: FixAttempt[];
  /** Set when the cap was reached or a fix could not be made: a person takes over (label `fanout: needs human`). */
  needsHuman?: { reason: string; at: string };
  /** Milliseconds spent in each phase, to show what parallelism costs. */
  timings?: Partial<Record<'worktree' | 'setup' | 'agent' | 'commit' | 'validate' | 'cleanup' | 'merge', number>>;
  updatedAt: string;
}

/** What asked for a fix attempt on a subtask's pull request. */
export type FixTrigger =
  /** A review that requested changes or commented inline (its comments are read when the attempt starts). */
  | { kind: 'review'; reviewer: string; reviewId: number }
  /** `/fanout fix [instructions]` on the pull request, or `fanout fix` in the terminal. */
  | { kind: 'command'; by: string; instructions: string }
  /** Checks failed on this head (Fanout's own validation or the repository's CI). */
  | { kind: 'check'; headSha: string };

/** One fix attempt: what asked for it, and what came of it. */
export interface FixAttempt {
  number: number;
  trigger: FixTrigger;
  state: 'running' | 'pushed' | 'not-fixed';
  startedAt: string;
  finishedAt?: string;
  /** The head the attempt started from, and the commit it pushed. */
  headBefore?: string;
  commit?: string;
  /** The agent's summary when pushed; why nothing was pushed otherwise. */
  message?: string;
  /** Files a reviewer asked about that lie outside the write scope (answered, never written). */
  outOfScope?: string[];
  tokens?: { prompt: number; completion: number };
  cost?: ModelCost;
  /** The generation of the queued job running it (several machines): an orchestrator waits for that job. */
  job?: string;
}

export type MergeFailureReason =
  | 'conflict'
  | 'validation-failed'
  | 'checks-failed'
  | 'revalidation-failed'
  | 'dependency-failed'
  | 'head-moved'
  | 'closed'
  | 'merge-refused'
  | 'not-on-base';

/**
 * Why a pull request is not merged yet, though nothing is wrong with it: `approval-stale` when the
 * only approvals were given on an older head; `merge-blocked` when the forge refused the merge for
 * a rule Fanout could not see (branch protection), retried on the next event.
 */
export type MergeWaitReason =
  'checks-pending' | 'review-required' | 'approval-stale' | 'changes-requested' | 'queued' | 'fixing' | 'merge-blocked';

/** A head Fanout made by updating a pull request's branch with its base, and the head it was made from. */
export interface BaseUpdate {
  from: string;
  to: string;
}

/** A validation command that failed, as people need to see it: what ran, how it ended, its last lines. */
export interface FailedCommand {
  run: string;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  outputTail: string;
}

/** One entry of an agent's append-only log; `seq` runs 1, 2, 3... per agent with no gaps. */
export interface AgentEvent {
  seq: number;
  at: string;
  type: AgentEventType;
  data: Record<string, unknown>;
}

/** The agent backend a run's subtasks use (runs recorded before backends existed used the built-in one). */
export function agentBackendOf(run: Pick<RunRecord, 'config'>): AgentBackendName {
  return (run.config as Partial<RunRecord['config']>).agent?.backend ?? 'builtin';
}
