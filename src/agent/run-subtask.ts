import { DiskFullError } from '../domain/errors.js';
import { isResourceLimitReason, resourceLimitReason, type SubtaskFailureReason } from '../domain/failure.js';
import type { ResourceLimitKind, ResourceLimits } from '../domain/resource-limits.js';
import { join } from 'node:path';
import { FANOUT_AUTHOR } from '../domain/identity.js';
import type { Subtask } from '../domain/plan.js';
import type { ProtectedPaths } from '../domain/protected-paths.js';
import { createWriteMatcher } from '../domain/scope.js';
import { redactSecrets } from '../domain/secrets.js';
import type { AgentBackend, AgentReporter, AgentRequest } from '../ports/agent-backend.js';
import type { ModelCallReport, ModelGrant, ModelGrantRequest } from '../ports/model-grants.js';
import type { CommandRunner } from '../ports/command-runner.js';
import type { CommitOutcome, SharedStateGuard, Workspace, Worktree } from '../ports/workspace.js';
import type { AgentLimits } from './limits.js';
import type { AgentOutcome, TokenTotals } from '../domain/agent-outcome.js';
import { retryHint } from './retry-hint.js';

export interface RunSubtaskInput {
  /** Which agent does the work: the built-in loop or an external CLI, all behind one port. */
  backend: AgentBackend;
  /**
   * Grants each attempt's agent its own access to the model (revoked when the attempt ends); the
   * grant reports each call to `onCall` and asks `onToolUse` about an agent CLI's tool calls.
   */
  modelAccess?: (attempt: number, hooks: Pick<ModelGrantRequest, 'onCall' | 'onToolUse'>) => Promise<ModelGrant>;
  workspace: Workspace;
  runner: CommandRunner;
  repoDir: string;
  runId: string;
  baseCommit: string;
  subtask: Subtask;
  /** The repository's protected paths: refused by the file tools and again at commit, whatever the scope. */
  protectedPaths: ProtectedPaths;
  overallTask?: string;
  /** A compact outline of the repository at the base commit (one per run, shared by its agents). */
  outline?: string;
  /** Worktrees go under `<worktreeRoot>/<runId>/`. */
  worktreeRoot: string;
  limits: AgentLimits;
  /** A reporter for each attempt (1 or 2), and the agent id its log goes under. */
  reporterFor: (attempt: number) => AgentReporter;
  /**
   * Prepares a fresh worktree before the agent starts (dependencies installed, files copied). A
   * failure is the environment's, not the agent's: the subtask fails at once, without a retry.
   */
  prepareWorktree?: (worktree: Worktree) => Promise<WorktreePreparation>;
  /** Called when an attempt starts, with its worktree (for records and resumption). */
  onAttempt?: (attempt: number, worktree: Worktree) => Promise<void>;
  /**
   * Keep the worktree after a successful commit, to run more in it (validation): the outcome then
   * holds it and the caller releases it. Otherwise it goes back to its pool as soon as the work is
   * committed, while the pull request is published.
   */
  keepWorktree?: boolean;
  /** Removes configured secrets from tool output before the model sees it. */
  redact?: (text: string) => string;
  /** Whether the agent's commands may reach the network (`network:` in .github/fanout.yml). */
  network?: boolean;
  /** What networked commands may reach beyond the internet (`networkAllow:`). */
  networkAllow?: readonly string[];
  /** What each of the agent's commands may take (`limits:` in .github/fanout.yml). */
  resourceLimits?: ResourceLimits;
  /**
   * The shared git state as the run found it: put back after each agent, before Fanout's own git
   * commands run in the repository again (what was put back is in the outcome and the agent's log).
   */
  sharedState?: SharedStateGuard;
  maxAttempts?: number;
  /**
   * When the run's time budget ends (`runBudgets.maxMinutes`): no attempt starts after it, and an
   * agent still at work then is stopped; either way the subtask fails as `budget` with `message`.
   */
  deadline?: { at: number; message: string };
  /**
   * A fix attempt: what a review or a failed check asked for. The worktree starts at
   * `baseCommit`, which is then the pull request's head, and the fix is committed on top of it.
   */
  feedback?: string;
  /** The branch the worktree's commit lands on; default `fanout/<run>/<subtask>`. */
  branch?: string;
  signal?: AbortSignal;
}

/** A worktree the caller still holds after the attempt; `release` hands it back to its pool. */
export interface HeldWorktree {
  worktree: Worktree;
  /** Hands the worktree back (its time is added to the outcome's `timings.cleanup`). */
  release(): Promise<void>;
}

/** How a subtask ended, after at most one retry. */
export type SubtaskOutcome = (
  | {
      kind: 'succeeded';
      branch: string;
      commit: string;
      files: string[];
      summary: string;
      attempts: number;
      steps: number;
      tokens: TokenTotals;
      /** With `keepWorktree`: the worktree of the commit, still held. */
      held?: HeldWorktree;
    }
  | {
      kind: 'failed';
      reason: SubtaskFailureReason;
      message: string;
      attempts: number;
      steps: number;
      tokens: TokenTotals;
      lastEvents: string[];
    }
) & {
  /** What the model calls cost, as the gateway priced them (0 without a gateway or a known price). */
  costUsd: number;
  /** Models called without a known price (their cost is not in `costUsd`), sorted. */
  unpricedModels: string[];
  timings: PhaseTimings;
  /** Paths of the shared git state the agents changed and Fanout put back (relative to the git dir). */
  reverted: string[];
};

/** What preparing a worktree gave: ready, or an environment failure with its output's tail. */
export type WorktreePreparation =
  | {
      ok: true;
      /** `built` and `built-uncached`: setup commands ran in the worktree. */
      environment?: 'none' | 'built' | 'built-uncached' | 'reused';
    }
  | { ok: false; message: string; limit?: ResourceLimitKind };

/** Milliseconds per phase, summed over attempts. */
export interface PhaseTimings {
  worktree: number;
  setup: number;
  agent: number;
  commit: number;
  validate: number;
  cleanup: number;
}

/** Where a repository's reusable worktrees live, under the worktree root. */
export function worktreePool(worktreeRoot: string): string {
  return join(worktreeRoot, 'pool');
}

/** Branch name of a subtask's work. */
export function subtaskBranch(runId: string, subtaskId: string): string {
  return `fanout/${runId}/${subtaskId}`;
}

/**
 * Runs one subtask, the same for agent jobs and fix jobs: a fresh worktree on
 * `fanout/<run>/<subtask>` from the base commit, its environment, the agent (whichever backend),
 * a commit of only in-scope changes, and the worktree handed back (or held for the caller, with
 * `keepWorktree`). A failed attempt is retried once in a fresh worktree with a hint built from the
 * failure. Each phase's result comes back as a value; nothing here calls up into the pipeline.
 */
export async function runSubtask(input: RunSubtaskInput): Promise<SubtaskOutcome> {
  const maxAttempts = input.maxAttempts ?? 2;
  const branch = input.branch ?? subtaskBranch(input.runId, input.subtask.id);
  const tokens: TokenTotals = { prompt: 0, completion: 0 };
  let steps = 0;
  let hint: string | undefined;
  let last: Extract<SubtaskOutcome, { kind: 'failed' }> | undefined;
  const timings: PhaseTimings = { worktree: 0, setup: 0, agent: 0, commit: 0, validate: 0, cleanup: 0 };
  const reverted = new Set<string>();
  const cost: Cost = { usd: 0, unpriced: new Set() };
  const spent = () => ({ costUsd: cost.usd, unpricedModels: [...cost.unpriced].sort() });
  const timed = async <T>(phase: keyof PhaseTimings, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[phase] += performance.now() - started;
    }
  };
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    // The run's time is up: this attempt does not start.
    const timeLeft = input.deadline ? input.deadline.at - Date.now() : Infinity;
    if (timeLeft <= 0)
      return {
        kind: 'failed',
        reason: 'budget',
        message: input.deadline!.message,
        attempts: attempt - 1,
        steps,
        tokens,
        lastEvents: last?.lastEvents ?? [],
        ...spent(),
        timings,
        reverted: [...reverted].sort(),
      };
    // An agent is stopped when the run's time is up, if that comes before its own time budget.
    const limits =
      timeLeft < input.limits.maxWallMs
        ? { ...input.limits, maxWallMs: Math.max(1, Math.floor(timeLeft)) }
        : input.limits;
    let result: AttemptResult;
    try {
      result = await runAttempt(input, attempt, hint, timed, reverted, cost, limits);
      if (result.kind === 'failed' && result.reason === 'time-budget' && limits !== input.limits)
        result = { ...result, reason: 'budget', message: input.deadline!.message };
    } catch (error) {
      // A full disk stops the run: another attempt would only fill it again.
      if (input.signal?.aborted || error instanceof DiskFullError) throw error;
      // Fanout's own machinery failed (git, the disk), not the model: the attempt is lost, and
      // the retry gets no hint, since the model did nothing wrong.
      result = {
        kind: 'failed',
        reason: 'crashed',
        message: redactSecrets(`Fanout failed: ${error instanceof Error ? error.message : String(error)}`),
        steps: 0,
        tokens: { prompt: 0, completion: 0 },
        lastEvents: [],
      };
    }
    steps += result.steps;
    tokens.prompt += result.tokens.prompt;
    tokens.completion += result.tokens.completion;
    if (result.kind === 'succeeded')
      return {
        ...result,
        branch,
        attempts: attempt,
        steps,
        tokens,
        ...spent(),
        timings,
        reverted: [...reverted].sort(),
      };
    last = {
      kind: 'failed',
      reason: result.reason,
      message: result.message,
      attempts: attempt,
      steps,
      tokens,
      lastEvents: result.lastEvents,
      ...spent(),
      timings,
      reverted: [...reverted].sort(),
    };
    // Cancelled, the environment could not be prepared, or a command hit a resource limit again
    // after the agent was told: another attempt would not help.
    // A spent budget stays spent: the retry's calls would be refused too.
    if (
      result.reason === 'cancelled' ||
      result.reason === 'setup-failed' ||
      result.reason === 'budget' ||
      isResourceLimitReason(result.reason)
    )
      return last;
    if (result.hint !== undefined) hint = result.hint;
  }
  return last as Extract<SubtaskOutcome, { kind: 'failed' }>;
}

type AttemptResult =
  | {
      kind: 'succeeded';
      commit: string;
      files: string[];
      summary: string;
      steps: number;
      tokens: TokenTotals;
      held?: HeldWorktree;
    }
  | {
      kind: 'failed';
      reason: SubtaskFailureReason;
      message: string;
      steps: number;
      tokens: TokenTotals;
      lastEvents: string[];
      hint?: string;
    };

type Timed = <T>(phase: keyof PhaseTimings, work: () => Promise<T>) => Promise<T>;

/** What the gateway reported the subtask's calls cost so far. */
interface Cost {
  usd: number;
  unpriced: Set<string>;
}

/** One attempt in a fresh worktree, handed back whatever happens (unless its commit's caller keeps it). */
async function runAttempt(
  input: RunSubtaskInput,
  attempt: number,
  hint: string | undefined,
  timed: Timed,
  reverted: Set<string>,
  cost: Cost,
  limits: AgentLimits,
): Promise<AttemptResult> {
  const canWrite = createWriteMatcher(input.subtask.writeScope, input.protectedPaths);
  const worktree = await timed('worktree', () =>
    input.workspace.acquireWorktree({
      repoDir: input.repoDir,
      poolRoot: worktreePool(input.worktreeRoot),
      branch: input.branch ?? subtaskBranch(input.runId, input.subtask.id),
      commit: input.baseCommit,
      // The preparation verifies a prepared environment the slot still holds, and keeps it.
      ...(input.prepareWorktree ? { keepIgnored: true } : {}),
    }),
  );
  let released = false;
  let kept = false;
  const release = async (options: { committedAll?: boolean } = {}) => {
    if (released) return;
    released = true;
    await timed('cleanup', () => input.workspace.releaseWorktree(worktree, options));
  };
  const reporter = input.reporterFor(attempt);
  const restoreSharedState = async () => {
    const changed = (await input.sharedState?.restore()) ?? [];
    if (changed.length === 0) return;
    for (const path of changed) reverted.add(path);
    await reporter.event('shared-state-reverted', { paths: changed });
  };
  try {
    await input.onAttempt?.(attempt, worktree);
    const prepared: WorktreePreparation = input.prepareWorktree
      ? await timed('setup', () => input.prepareWorktree!(worktree))
      : { ok: true };
    if (!prepared.ok)
      return {
        kind: 'failed',
        reason: prepared.limit ? resourceLimitReason(prepared.limit) : 'setup-failed',
        message: prepared.message,
        steps: 0,
        tokens: { prompt: 0, completion: 0 },
        lastEvents: [],
      };
    const home = await input.runner.privateHome();
    const request: AgentRequest = {
      subtask: input.subtask,
      ...(input.overallTask ? { overallTask: input.overallTask } : {}),
      ...(hint ? { retryHint: hint } : {}),
      ...(input.outline ? { outline: input.outline } : {}),
      ...(input.feedback ? { feedback: input.feedback } : {}),
      worktree,
      canWrite,
      protectedPaths: input.protectedPaths,
      home: home.path,
      network: input.network === true,
      ...(input.networkAllow ? { networkAllow: input.networkAllow } : {}),
      ...(input.resourceLimits ? { resourceLimits: input.resourceLimits } : {}),
      limits,
      // What commands change counts as the agent's work (never fatal: without it, only file tools count).
      worktreeChanges: () => input.workspace.worktreeChanges(worktree).catch(() => null),
      ...(input.redact ? { redact: input.redact } : {}),
    };
    // The gateway's word on spending wins over however the agent saw its end: a call it refused
    // for a budget ends the attempt as `budget`, with the figure.
    let refusal: string | undefined;
    // Each call's cost goes to the agent's log as the gateway saw it (the backend logs the call
    // itself, from its side); written in order, and all of them before the attempt's outcome.
    let logged = Promise.resolve();
    const grant = await input.modelAccess?.(attempt, {
      onCall: (call) => {
        if (call.refusal) refusal ??= call.refusal;
        cost.usd += call.costUsd ?? 0;
        if (call.usage && call.costUsd === null) cost.unpriced.add(call.model ?? 'an unnamed model');
        logged = logged.then(() => reporter.event('model-cost', modelCostEvent(call)).catch(() => undefined));
      },
      onToolUse: async (use) => (await input.backend.reviewToolUse?.(use, request)) ?? null,
    });
    if (grant) request.model = grant.access;
    try {
      const ran: AgentOutcome = await timed('agent', () =>
        input.backend.run(request, reporter, input.signal).finally(restoreSharedState),
      );
      const outcome: AgentOutcome =
        ran.kind === 'failed' && refusal && ran.reason !== 'cancelled'
          ? { ...ran, reason: 'budget', message: refusal }
          : ran;
      const spent = { steps: outcome.steps, tokens: outcome.tokens };
      if (outcome.kind === 'failed') {
        return {
          kind: 'failed',
          reason: outcome.reason,
          message: outcome.message,
          ...spent,
          lastEvents: outcome.lastEvents,
          hint: retryHint(outcome),
        };
      }
      // No setup command and no agent command ran: the file tools' own list is all that changed.
      const setupRan = prepared.environment === 'built' || prepared.environment === 'built-uncached';
      const knownPaths = outcome.changesKnown && !setupRan ? outcome.filesChanged : undefined;
      const commit = await timed('commit', () =>
        input.workspace.commitChanges(worktree, {
          message: `${input.subtask.title}\n\n${outcome.summary}\n\nFanout run ${input.runId}, subtask ${input.subtask.id}.`,
          author: FANOUT_AUTHOR,
          isAllowed: canWrite,
          protectedPaths: input.protectedPaths,
          ...(knownPaths ? { knownPaths } : {}),
        }),
      );
      if (commit.kind === 'committed') {
        // Nothing more runs in it: tidied for the next agent while this one's work is published.
        // Every path the tools wrote is in the commit (an ignored one is not: it stays to be cleaned).
        const committedAll = knownPaths !== undefined && knownPaths.every((path) => commit.files.includes(path));
        if (!input.keepWorktree) await release({ committedAll });
        await reporter.event('committed', { commit: commit.commit, files: commit.files });
        kept = input.keepWorktree === true;
        return {
          kind: 'succeeded',
          commit: commit.commit,
          files: commit.files,
          summary: outcome.summary,
          ...spent,
          ...(kept ? { held: { worktree, release: () => release() } } : {}),
        };
      }
      if (commit.kind !== 'no-changes') {
        // Work the commit refused (outside the scope, too large, nested repositories, links out).
        await reporter.event(commit.kind, { paths: commit.paths });
        return {
          kind: 'failed',
          reason: 'out-of-scope',
          message: refusalMessage(commit),
          ...spent,
          lastEvents: [],
          hint: retryHint({ reason: commit.kind, paths: commit.paths }),
        };
      }
      return {
        kind: 'failed',
        reason: 'no-changes',
        message: 'finished without changing any file',
        ...spent,
        lastEvents: [],
        hint: retryHint({ reason: 'no-changes' }),
      };
    } finally {
      await grant?.revoke();
      await logged;
      await timed('cleanup', () => home.dispose());
    }
  } finally {
    // Setup commands too ran in the worktree: whatever they changed in the shared state goes back.
    await restoreSharedState();
    if (!kept) await release();
  }
}

/** A model call as the agent's log keeps the gateway's view of it: tokens, cost, a refusal. */
function modelCostEvent(call: ModelCallReport): Record<string, unknown> {
  return {
    model: call.model,
    usage: call.usage,
    costUsd: call.costUsd,
    status: call.status,
    ...(call.refusal ? { refusal: call.refusal } : {}),
  };
}

/** Why the commit refused the agent's work, for reports and the retry. */
function refusalMessage(commit: Exclude<CommitOutcome, { kind: 'committed' | 'no-changes' }>): string {
  const paths = commit.paths.join(', ');
  switch (commit.kind) {
    case 'out-of-scope':
      return `changed files outside its write scope: ${paths}`;
    case 'too-large':
      return `made files larger than ${Math.round(commit.limitBytes / 1024 / 1024)} MiB: ${paths}`;
    case 'nested-repositories':
      return `added nested git repositories (submodules), which are not allowed: ${paths}`;
    case 'escaping-links':
      return `made symbolic links that point outside the repository: ${paths}`;
  }
}
