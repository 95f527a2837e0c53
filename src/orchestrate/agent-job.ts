import { hostname } from 'node:os';
import type { AgentLimits } from '../agent/limits.js';
import { storeReporter, type AgentReporter } from '../agent/reporter.js';
import { DiskFullError } from '../domain/errors.js';
import type { Failpoint } from '../domain/failpoint.js';
import { stoppedByFullDisk } from '../domain/run-transitions.js';
import { protectedPaths } from '../domain/protected-paths.js';
import { AGENT_OUTLINE_CHARS, outlineForSubtask } from '../domain/repo-outline.js';
import type { WorkspacePackage } from '../domain/workspace-packages.js';
import { runSubtask, type HeldWorktree, type PhaseTimings, type SubtaskOutcome } from '../agent/run-subtask.js';
import { addCosts, type ModelCost } from '../domain/model-cost.js';
import { runDeadline } from '../domain/run-budgets.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { Subtask } from '../domain/plan.js';
import { agentBackendOf, type RunRecord } from '../domain/run.js';
import { redactSecrets } from '../domain/secrets.js';
import type { PullRequestInfo } from '../ports/forge.js';
import type { SharedStateGuard, Worktree } from '../ports/workspace.js';
import { failedCommands, summarizeValidation, type ValidationResult } from '../validate/run-validation.js';
import { limitsWithGateway, modelAccessFor } from './model-access.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { fixOnRedCheck, queueFixRequests } from './fix-requests.js';
import { openSubtaskPullRequest, publishScopeCheck, validateAndPublish, type CommittedWork } from './publish.js';

/** What every agent job of a run shares. */
export interface AgentJobContext {
  config: RepoConfig;
  limits: AgentLimits;
  /** Tracked files at the base commit, listed once per run; each agent's outline is cut from them. */
  files: readonly string[];
  /** The repository's workspace packages, read once per run. */
  packages: readonly WorkspacePackage[];
  /** The shared git state as the run found it; put back after every attempt. */
  sharedState: SharedStateGuard;
}

/**
 * One subtask, start to finish: the agent (with its one retry), then its branch pushed, its pull
 * request opened, validated with the check in progress and then its result, and the scope check,
 * all recorded in the store. An unexpected error is recorded as a `crashed` failure at once; it
 * throws only a DiskFullError (recorded first where the disk allows), which stops the whole run.
 */
export async function executeAgentJob(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  context: AgentJobContext,
  baseCommit = run.baseCommit,
): Promise<void> {
  const { config, limits } = context;
  // Centred on this subtask's scopes: its own files in full, then its package, then the rest.
  const outline = outlineForSubtask(context.files, subtask, context.packages, AGENT_OUTLINE_CHARS);
  const { store } = deps;
  try {
    // A subtask retried with `resume --retry-failed`: its attempts are numbered on, its tokens add up.
    const earlier = (await store.getSubtask(run.id, subtask.id))?.earlier;
    const offset = earlier?.attempts ?? 0;
    const spentBefore = earlier?.tokens ?? { prompt: 0, completion: 0 };
    const deadline = runDeadline(run);
    await store.updateSubtask(run.id, subtask.id, {
      state: 'running',
      step: 0,
      startedAt: new Date().toISOString(),
      ranOn: `${hostname()}:${process.pid}`,
    });
    let currentAttempt = 1 + offset;
    const backend = await deps.agents(agentBackendOf(run));
    const outcome = await runSubtask({
      backend,
      ...modelAccessFor(deps, run, subtask.id, backend, (attempt) => attempt + offset),
      workspace: deps.workspace,
      runner: deps.runner,
      repoDir: run.repo,
      runId: run.id,
      baseCommit,
      subtask,
      protectedPaths: protectedPaths(config.protectedPaths),
      overallTask: run.task,
      outline,
      worktreeRoot: deps.worktreeRoot,
      limits: limitsWithGateway(deps, limits),
      ...(deadline ? { deadline } : {}),
      network: config.network,
      networkAllow: config.networkAllow,
      resourceLimits: config.limits,
      // Validation is the only thing run in the worktree after the commit.
      keepWorktree: config.validate.length > 0,
      sharedState: context.sharedState,
      ...(deps.redact ? { redact: deps.redact } : {}),
      ...(deps.prepareWorktree
        ? {
            prepareWorktree: (worktree: Worktree) =>
              deps.prepareWorktree!(worktree, config, { trustedCommit: run.baseCommit }),
          }
        : {}),
      reporterFor: (attempt) =>
        withFailpoint(
          withEarlierTokens(storeReporter(store, run.id, subtask.id, `${subtask.id}-${attempt + offset}`), spentBefore),
          deps.failpoint,
        ),
      onAttempt: async (attempt, worktree) => {
        currentAttempt = attempt + offset;
        await store.updateSubtask(run.id, subtask.id, {
          attempt: attempt + offset,
          step: 0,
          branch: worktree.branch,
          worktreePath: worktree.path,
          agent: agentBackendOf(run),
        });
      },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    let published: { pr: PullRequestInfo; validation: ValidationResult } | undefined;
    if (outcome.kind === 'succeeded') {
      const agentId = `${subtask.id}-${currentAttempt}`;
      published = await publishTimed(outcome.timings, () =>
        publish(deps, run, subtask, agentId, context, {
          branch: outcome.branch,
          commit: outcome.commit,
          files: outcome.files,
          summary: outcome.summary,
          tokens: {
            prompt: spentBefore.prompt + outcome.tokens.prompt,
            completion: spentBefore.completion + outcome.tokens.completion,
          },
          ...(deps.modelGrants ? { cost: addCosts(earlier?.cost, outcomeCost(outcome)) } : {}),
          ...(outcome.held ? { held: outcome.held } : {}),
        }),
      );
    }
    if (outcome.reverted.length > 0) {
      const current = await store.getSubtask(run.id, subtask.id);
      await store.updateSubtask(run.id, subtask.id, {
        reverted: [...new Set([...(current?.reverted ?? []), ...outcome.reverted])].sort(),
      });
    }
    const common = {
      tokens: {
        prompt: spentBefore.prompt + outcome.tokens.prompt,
        completion: spentBefore.completion + outcome.tokens.completion,
      },
      ...(deps.modelGrants || earlier?.cost ? { cost: addCosts(earlier?.cost, outcomeCost(outcome)) } : {}),
      timings: outcome.timings,
      attempt: outcome.attempts + offset,
      step: outcome.steps,
      finishedAt: new Date().toISOString(),
    };
    if (outcome.kind === 'failed' || !published) {
      await store.updateSubtask(run.id, subtask.id, {
        ...common,
        state: outcome.kind === 'failed' && outcome.reason === 'cancelled' ? 'cancelled' : 'failed',
        failureReason: outcome.kind === 'failed' ? outcome.reason : 'crashed',
        failureMessage: outcome.kind === 'failed' ? outcome.message : 'the work was committed but never published',
      });
      return;
    }
    const { pr, validation } = published;
    await store.updateSubtask(run.id, subtask.id, {
      ...common,
      state: 'succeeded',
      commit: outcome.commit,
      filesChanged: outcome.files,
      summary: outcome.summary,
      pr: { number: pr.number, url: pr.url, headSha: outcome.commit },
      check: {
        passed: validation.passed,
        headSha: outcome.commit,
        summary: summarizeValidation(validation, config.validate.length),
        durationMs: validation.durationMs,
        failed: failedCommands(validation),
      },
    });
    // Red with `fixOnRedCheck`: the agent gets the failure output in a fix attempt before the merge
    // queue (added to what reviews may have queued meanwhile).
    if (!validation.passed && fixOnRedCheck(run))
      await queueFixRequests(store, run.id, subtask.id, [{ kind: 'check', headSha: outcome.commit }]);
  } catch (error) {
    if (error instanceof DiskFullError) {
      await store
        .updateSubtask(run.id, subtask.id, stoppedByFullDisk(error.message, new Date().toISOString()))
        .catch(() => undefined);
      throw error;
    }
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    await store
      .updateSubtask(run.id, subtask.id, {
        state: 'failed',
        failureReason: 'crashed',
        failureMessage: message,
        finishedAt: new Date().toISOString(),
      })
      .catch(() => undefined);
  }
}

/**
 * The committed work made public: the pull request opened, the scope check, validation in the
 * held worktree with its check (the worktree handed back after, whatever happens), and the
 * validation in the agent's log.
 */
async function publish(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  agentId: string,
  context: AgentJobContext,
  work: CommittedWork & { held?: HeldWorktree },
): Promise<{ pr: PullRequestInfo; validation: ValidationResult }> {
  const { store } = deps;
  try {
    deps.failpoint?.('after-commit');
    const pr = await openSubtaskPullRequest(deps, run, subtask, work);
    deps.failpoint?.('after-pr');
    await store.updateSubtask(run.id, subtask.id, { pr: { number: pr.number, url: pr.url, headSha: work.commit } });
    await publishScopeCheck(deps, work.commit, work.files, subtask.writeScope, context.config);
    const judging = {
      changedFiles: work.files,
      ...(run.baseline ? { baselineFailures: run.baseline.failing } : {}),
    };
    const validation = await validateAndPublish(
      deps,
      work.held?.worktree,
      work.commit,
      context.config,
      'first',
      judging,
    );
    // The agent's log says how its work fared: `fanout logs` shows each command's end and last lines.
    await store.appendEvent(run.id, agentId, { type: 'validated', data: validationEvent(validation) });
    return { pr, validation };
  } finally {
    const changed = work.held ? await context.sharedState.restore() : [];
    if (changed.length > 0) {
      await store.appendEvent(run.id, agentId, { type: 'shared-state-reverted', data: { paths: changed } });
      const current = await store.getSubtask(run.id, subtask.id);
      await store.updateSubtask(run.id, subtask.id, {
        reverted: [...new Set([...(current?.reverted ?? []), ...changed])].sort(),
      });
    }
    await work.held?.release();
  }
}

/** Adds the time of publishing (opening the PR, validating) to the subtask's `validate` phase. */
async function publishTimed<T>(timings: PhaseTimings, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.validate += performance.now() - started;
  }
}

function validationEvent(result: ValidationResult): Record<string, unknown> {
  return {
    passed: result.passed,
    commands: result.commands.map((command) => ({
      run: command.run,
      passed: command.passed,
      exitCode: command.exitCode,
      durationMs: command.durationMs,
      ...(command.skipped ? { skipped: true } : {}),
      outputTail: command.outputTail.slice(-1_000),
    })),
  };
}

/** What a subtask's attempts cost, as its outcome says. */
export function outcomeCost(outcome: Pick<SubtaskOutcome, 'costUsd' | 'unpricedModels'>): ModelCost {
  return { usd: outcome.costUsd, unpricedModels: outcome.unpricedModels };
}

/** Reports progress with the tokens spent before a retry added in, so totals never go back. */
function withEarlierTokens(reporter: AgentReporter, before: { prompt: number; completion: number }): AgentReporter {
  if (before.prompt === 0 && before.completion === 0) return reporter;
  return {
    ...reporter,
    progress: (update) =>
      reporter.progress({
        ...update,
        tokens: {
          prompt: before.prompt + update.tokens.prompt,
          completion: before.completion + update.tokens.completion,
        },
      }),
  };
}

/** Fires the `mid-agent` failpoint once the agent has made its first tool call. */
function withFailpoint(reporter: AgentReporter, failpoint: Failpoint | undefined): AgentReporter {
  if (!failpoint) return reporter;
  return {
    ...reporter,
    async event(type, data) {
      await reporter.event(type, data);
      if (type === 'tool-call') failpoint('mid-agent');
    },
  };
}
