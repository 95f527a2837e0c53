import type { RepoConfig } from '../config/repo-config.js';
import type { ModelCost } from '../domain/model-cost.js';
import type { Subtask } from '../domain/plan.js';
import type { RunRecord } from '../domain/run.js';
import { protectedPaths } from '../domain/protected-paths.js';
import { createWriteMatcher } from '../domain/scope.js';
import type { PullRequestInfo } from '../ports/forge.js';
import type { Worktree } from '../ports/workspace.js';
import { scopeCheckOutput, validationCheckOutput } from '../report/check-output.js';
import { pullRequestBody } from '../report/pull-request-body.js';
import { runValidation, type ValidationResult } from '../validate/run-validation.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** Name of the check Fanout publishes with each pull request's validation. */
export const CHECK_NAME = 'fanout/validate';
/** Name of the check that compares a pull request's files with its subtask's write scope. */
export const SCOPE_CHECK_NAME = 'fanout/scope';

/** A subtask's committed work, ready to become a pull request. */
export interface CommittedWork {
  branch: string;
  commit: string;
  files: string[];
  summary: string;
  tokens: { prompt: number; completion: number };
  /** What its model calls cost (with a gateway). */
  cost?: ModelCost;
}

/** Pushes the subtask's branch and opens its pull request (or finds the one already open). */
export async function openSubtaskPullRequest(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  work: CommittedWork,
): Promise<PullRequestInfo> {
  await deps.forge.pushBranch(work.branch, work.commit, null);
  return deps.forge.openPullRequest({
    runId: run.id,
    subtaskId: subtask.id,
    title: subtask.title,
    body: pullRequestBody({
      runId: run.id,
      subtask,
      files: work.files,
      summary: work.summary,
      tokens: work.tokens,
      ...(work.cost ? { cost: work.cost } : {}),
      ...issueLinks(run),
    }),
    branch: work.branch,
    base: run.baseBranch,
    headSha: work.commit,
  });
}

/**
 * Validates a head in its worktree, shown as `fanout/validate` in progress, then its result.
 * `changedFiles` lets commands with `paths` skip; `baselineFailures` are not held against it.
 */
export async function validateAndPublish(
  deps: PipelineDeps,
  /** Where the head is checked out; only needed when validation commands are configured. */
  worktree: Worktree | undefined,
  headSha: string,
  config: RepoConfig,
  when: 'first' | 'after-update' | 'after-fix',
  judging: { changedFiles?: readonly string[]; baselineFailures?: readonly string[] } = {},
): Promise<ValidationResult> {
  const checkId = await deps.forge.startCheck({
    name: CHECK_NAME,
    headSha,
    title:
      when === 'first'
        ? 'Validating'
        : when === 'after-fix'
          ? 'Validating a fix attempt'
          : 'Validating after updating with the base',
  });
  const result = await validateIn(deps, worktree, config, judging);
  await deps.forge.completeCheck(checkId, validationCheckOutput(result, config.validate.length, when));
  return result;
}

/**
 * Publishes `fanout/scope` for a head: its changed files against the subtask's write scope and the
 * repository's protected paths (as the run's configuration names them), which no scope grants.
 */
export async function publishScopeCheck(
  deps: PipelineDeps,
  headSha: string,
  files: readonly string[],
  writeScope: readonly string[],
  config: Pick<RepoConfig, 'protectedPaths'>,
): Promise<boolean> {
  const guarded = protectedPaths(config.protectedPaths);
  const allowed = createWriteMatcher(writeScope, guarded);
  const outside = files.filter((file) => !allowed(file));
  const checkId = await deps.forge.startCheck({ name: SCOPE_CHECK_NAME, headSha, title: 'Checking the write scope' });
  const protectedFiles = outside.filter((file) => guarded.covers(file));
  await deps.forge.completeCheck(checkId, scopeCheckOutput(files, outside, writeScope, protectedFiles));
  return outside.length === 0;
}

/** Runs the configured validation commands in a worktree, with a private HOME. */
export async function validateIn(
  deps: Pick<PipelineDeps, 'runner' | 'signal'>,
  worktree: Pick<Worktree, 'path' | 'gitDir' | 'commonDir'> | undefined,
  config: RepoConfig,
  options: { changedFiles?: readonly string[]; baselineFailures?: readonly string[]; runAll?: boolean } = {},
): Promise<ValidationResult> {
  if (config.validate.length === 0) return { passed: true, commands: [], durationMs: 0 };
  if (!worktree) throw new Error('validation commands are configured, but no worktree holds the head');
  const home = await deps.runner.privateHome();
  try {
    return await runValidation({
      runner: deps.runner,
      cwd: worktree.path,
      commands: config.validate,
      env: { HOME: home.path },
      git: { gitDir: worktree.gitDir, commonDir: worktree.commonDir },
      network: config.network,
      networkAllow: config.networkAllow,
      ...(config.limits ? { limits: config.limits } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...options,
    });
  } finally {
    await home.dispose();
  }
}

function issueLinks(run: RunRecord): { partOf?: string; statusComment?: string } {
  if (run.origin.kind !== 'github') return {};
  const issueUrl = `${run.origin.htmlUrl}/issues/${run.origin.issue}`;
  return {
    partOf: `#${run.origin.issue}`,
    ...(run.statusCommentId ? { statusComment: `${issueUrl}#issuecomment-${run.statusCommentId}` } : {}),
  };
}
