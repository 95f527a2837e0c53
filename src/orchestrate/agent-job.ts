import type { AgentLimits } from '../agent/limits.js';
import { storeReporter, type AgentReporter } from '../agent/reporter.js';
import type { Failpoint } from '../domain/failpoint.js';
import { runSubtask } from '../agent/run-subtask.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { Subtask } from '../domain/plan.js';
import type { RunRecord } from '../domain/run.js';
import { redactSecrets } from '../domain/secrets.js';
import { pullRequestBody } from '../report/pull-request-body.js';
import { runValidation, summarizeValidation, type ValidationResult } from '../validate/run-validation.js';
import type { SharedStateGuard, Worktree } from '../ports/workspace.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** What every agent job of a run shares. */
export interface AgentJobContext {
  config: RepoConfig;
  limits: AgentLimits;
  /** The repository outline agents start from, computed once per run. */
  outline: string;
  /** The shared git state as the run found it; put back after every attempt. */
  sharedState: SharedStateGuard;
}

/** Name of the check Fanout publishes on every pull request. */
export const CHECK_NAME = 'fanout/validate';

/**
 * One subtask, start to finish: the agent (with its one retry), validation in its worktree, the
 * pull request, the check and (auto) approval, all recorded in the store. It never throws: an
 * unexpected error is recorded as a `crashed` failure at once.
 */
export async function executeAgentJob(deps: PipelineDeps, run: RunRecord, subtask: Subtask, context: AgentJobContext): Promise<void> {
  const { config, limits, outline } = context;
  const { store } = deps;
  try {
    await store.updateSubtask(run.id, subtask.id, { state: 'running', step: 0, startedAt: new Date().toISOString() });
    let validation: ValidationResult | undefined;
    const outcome = await runSubtask({
      llm: deps.llm,
      workspace: deps.workspace,
      runner: deps.runner,
      repoDir: run.repo,
      runId: run.id,
      baseCommit: run.baseCommit,
      subtask,
      overallTask: run.task,
      outline,
      worktreeRoot: deps.worktreeRoot,
      limits,
      network: config.network,
      reporterFor: (attempt) => withFailpoint(storeReporter(store, run.id, subtask.id, `${subtask.id}-${attempt}`), deps.failpoint),
      onAttempt: async (attempt, worktree) => {
        await store.updateSubtask(run.id, subtask.id, { attempt, step: 0, branch: worktree.branch, worktreePath: worktree.path });
      },
      afterAttempt: async (attempt) => {
        const changed = await context.sharedState.restore();
        if (changed.length === 0) return;
        await store.appendEvent(run.id, `${subtask.id}-${attempt}`, { type: 'shared-state-reverted', data: { paths: changed } });
        const current = await store.getSubtask(run.id, subtask.id);
        await store.updateSubtask(run.id, subtask.id, { reverted: [...new Set([...(current?.reverted ?? []), ...changed])].sort() });
      },
      afterCommit: async (worktree) => {
        deps.failpoint?.('after-commit');
        validation = await validateIn(deps, worktree, config);
      },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    const common = { tokens: outcome.tokens, timings: outcome.timings, attempt: outcome.attempts, step: outcome.steps, finishedAt: new Date().toISOString() };
    if (outcome.kind === 'failed') {
      await store.updateSubtask(run.id, subtask.id, {
        ...common,
        state: outcome.reason === 'cancelled' ? 'cancelled' : 'failed',
        failureReason: outcome.reason,
        failureMessage: outcome.message,
      });
      return;
    }
    const checked = validation ?? { passed: true, commands: [], durationMs: 0 };
    const pr = await deps.forge.openPullRequest({
      runId: run.id,
      subtaskId: subtask.id,
      title: subtask.title,
      body: pullRequestBody({ runId: run.id, subtask, files: outcome.files, summary: outcome.summary, ...partOf(run) }),
      branch: outcome.branch,
      base: run.baseBranch,
      headSha: outcome.commit,
    });
    deps.failpoint?.('after-pr');
    const summary = summarizeValidation(checked, config.validate.length);
    await deps.forge.publishCheck(pr.number, {
      name: CHECK_NAME,
      headSha: outcome.commit,
      conclusion: checked.passed ? 'success' : 'failure',
      title: checked.passed ? 'Validation passed' : 'Validation failed',
      summary,
      details: checked.commands.map((command) => `$ ${command.run}\n${command.outputTail}`).join('\n\n'),
    });
    const approved = config.approval === 'auto' && checked.passed;
    if (approved) await deps.forge.approve(pr.number, 'approval: auto and validation passed');
    await store.updateSubtask(run.id, subtask.id, {
      ...common,
      state: 'succeeded',
      commit: outcome.commit,
      filesChanged: outcome.files,
      summary: outcome.summary,
      pr: { number: pr.number, url: pr.url, headSha: outcome.commit },
      check: { passed: checked.passed, headSha: outcome.commit, summary, durationMs: checked.durationMs },
      approved,
    });
  } catch (error) {
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    await store
      .updateSubtask(run.id, subtask.id, { state: 'failed', failureReason: 'crashed', failureMessage: message, finishedAt: new Date().toISOString() })
      .catch(() => undefined);
  }
}

/** Runs the configured validation commands in a worktree, with a private HOME. */
export async function validateIn(deps: Pick<PipelineDeps, 'runner' | 'signal'>, worktree: Pick<Worktree, 'path'> & Partial<Pick<Worktree, 'gitDir' | 'commonDir'>>, config: RepoConfig): Promise<ValidationResult> {
  const home = await deps.runner.privateHome();
  try {
    return await runValidation({
      runner: deps.runner,
      cwd: worktree.path,
      commands: config.validate,
      env: { HOME: home.path },
      ...(worktree.gitDir && worktree.commonDir ? { git: { gitDir: worktree.gitDir, commonDir: worktree.commonDir } } : {}),
      network: config.network,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  } finally {
    await home.dispose();
  }
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

function partOf(run: RunRecord): { partOf?: string } {
  return run.origin.kind === 'github' ? { partOf: `#${run.origin.issue}` } : {};
}
