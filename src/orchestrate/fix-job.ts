import { runSubtask } from '../agent/run-subtask.js';
import type { AgentReporter } from '../agent/reporter.js';
import { DiskFullError, ForgeError } from '../domain/errors.js';
import { addCosts } from '../domain/model-cost.js';
import type { Subtask } from '../domain/plan.js';
import { runDeadline, type RunDeadline } from '../domain/run-budgets.js';
import { protectedPaths } from '../domain/protected-paths.js';
import { AGENT_OUTLINE_CHARS, outlineForSubtask } from '../domain/repo-outline.js';
import { agentBackendOf, type FixAttempt, type FixTrigger, type RunRecord, type SubtaskRecord } from '../domain/run.js';
import { FIX_INTERRUPTED, fixNotDone } from '../domain/run-transitions.js';
import { createWriteMatcher } from '../domain/scope.js';
import { redactSecrets } from '../domain/secrets.js';
import type { ReviewComment } from '../ports/forge.js';
import type { Worktree } from '../ports/workspace.js';
import {
  addressedReply,
  checkFailuresText,
  codeAround,
  commandFeedbackText,
  fixComment,
  NEEDS_HUMAN_LABEL,
  needsHumanComment,
  notFixedReply,
  outOfScopeReply,
  reviewFeedbackText,
  type CommentInContext,
} from '../report/fix-texts.js';
import { failedCommands, summarizeValidation, type ValidationResult } from '../validate/run-validation.js';
import type { AgentJobContext } from './agent-job.js';
import { consumeFixRequest, fixOnRedCheck, queueFixRequests } from './fix-requests.js';
import { limitsWithGateway, modelAccessFor } from './model-access.js';
import { outcomeCost } from './agent-job.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { publishScopeCheck, validateAndPublish } from './publish.js';

/** Where a fix attempt commits before its commit is pushed to the pull request's branch (compare-and-swap). */
export function fixBranch(prBranch: string): string {
  return `${prBranch}.fix`;
}

/** What the agent is asked, and the review threads it answers afterwards. */
interface Feedback {
  text: string;
  inScope: ReviewComment[];
  outOfScope: ReviewComment[];
}

/**
 * Acts on the oldest fix request of a subtask's pull request: past `maxFixAttempts` (or with its
 * budget spent) the PR goes to a person, labelled and commented; otherwise the subtask's agent runs
 * again on the PR's head with the review's comments (and the code around each line) or the failed
 * checks' output, inside the same write scope. A fix is pushed to the same branch
 * (compare-and-swap on the head), checked and validated again, and the PR goes back into the
 * merge queue; the review threads are answered and review is requested again. It throws only a
 * DiskFullError, which stops the whole run.
 */
export async function executeFixJob(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  context: AgentJobContext,
  /** The queued job's generation, when a queue runs it: recorded on the attempt. */
  job?: string,
): Promise<void> {
  const { store } = deps;
  const record = await store.getSubtask(run.id, subtask.id);
  // This very job's attempt, left running by a worker that died: tried again, on the same request.
  // It stays `running` until the new attempt replaces it, so whoever waits for the job keeps waiting.
  const lost = job === undefined ? undefined : record?.fixes?.find((fix) => fix.state === 'running' && fix.job === job);
  const trigger = lost?.trigger ?? record?.fixRequests?.[0];
  if (!record || !trigger) return;
  const fixes = (record.fixes ?? []).map((fix) => (fix === lost ? fixNotDone(fix, FIX_INTERRUPTED) : fix));
  const settleLost = async () => {
    if (lost) await store.updateSubtask(run.id, subtask.id, { fixes });
  };
  try {
    if (!record.pr || !record.branch || record.merge?.state === 'merged' || record.needsHuman) {
      await settleLost();
      await store.updateSubtask(run.id, subtask.id, { fixRequests: [] });
      return;
    }
    const head = await deps.forge.fetchBase(record.branch);
    // A red check on a head that is no longer the PR's: the newer head gets its own checks.
    if (trigger.kind === 'check' && trigger.headSha !== head) {
      await settleLost();
      await consumeFixRequest(store, run.id, subtask.id, trigger);
      return;
    }
    const spentTokens = (record.tokens?.prompt ?? 0) + (record.tokens?.completion ?? 0);
    const spentMs = record.timings?.agent ?? 0;
    const deadline = runDeadline(run);
    const refusal =
      fixes.length >= run.config.maxFixAttempts
        ? `it reached \`maxFixAttempts\` (${run.config.maxFixAttempts}) and more was asked`
        : spentTokens >= context.limits.maxTokens
          ? `the subtask spent its token budget (${context.limits.maxTokens})`
          : spentMs >= context.limits.maxWallMs
            ? `the subtask spent its time budget (${Math.round(context.limits.maxWallMs / 60_000)} min)`
            : deadline && Date.now() >= deadline.at
              ? deadline.message
              : null;
    if (refusal) {
      await settleLost();
      await handToPerson(deps, run, { ...record, fixes }, refusal);
      return;
    }
    const feedback = await gatherFeedback(deps, run, subtask, record.pr.number, trigger, head);
    const attempt: FixAttempt = {
      number: fixes.length + 1,
      trigger,
      ...(job !== undefined ? { job } : {}),
      state: 'running',
      startedAt: new Date().toISOString(),
      headBefore: head,
    };
    if (!lost) await consumeFixRequest(store, run.id, subtask.id, trigger);
    await store.updateSubtask(run.id, subtask.id, { fixes: [...fixes, attempt] });
    const finished = await attemptFix(deps, run, subtask, record, context, {
      attempt,
      feedback,
      head,
      limits: { spentTokens, spentMs },
      deadline,
    });
    await answer(deps, run, subtask, record, trigger, feedback, finished);
  } catch (error) {
    // Fanout's own failure (the forge, git): the request is answered as not done, never lost silently.
    const message = redactSecrets(error instanceof Error ? error.message : String(error));
    const current = await store.getSubtask(run.id, subtask.id).catch(() => null);
    if (current) {
      const fixes = (current.fixes ?? []).map((fix) =>
        fix.state === 'running' ? fixNotDone(fix, `Fanout failed: ${message}`) : fix,
      );
      await store.updateSubtask(run.id, subtask.id, { fixes }).catch(() => undefined);
    }
    // A full disk stops the run; the request stays, for the resume once space is freed.
    if (error instanceof DiskFullError) throw error;
    if (current) await consumeFixRequest(store, run.id, subtask.id, trigger).catch(() => undefined);
  }
}

interface FinishedFix {
  attempt: FixAttempt;
  validation: ValidationResult | null;
}

async function attemptFix(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  record: SubtaskRecord,
  context: AgentJobContext,
  fix: {
    attempt: FixAttempt;
    feedback: Feedback;
    head: string;
    limits: { spentTokens: number; spentMs: number };
    deadline: RunDeadline | null;
  },
): Promise<FinishedFix> {
  const { store } = deps;
  const prBranch = record.branch!;
  const agentId = `${subtask.id}-fix${fix.attempt.number}`;
  const backend = await deps.agents(agentBackendOf(run));
  const outcome = await runSubtask({
    backend,
    // Charged to the subtask's latest attempt: a fix is that agent at work again.
    ...modelAccessFor(deps, run, subtask.id, backend, () => record.attempt),
    workspace: deps.workspace,
    runner: deps.runner,
    repoDir: run.repo,
    runId: run.id,
    baseCommit: fix.head,
    branch: fixBranch(prBranch),
    subtask,
    protectedPaths: protectedPaths(run.config.protectedPaths),
    overallTask: run.task,
    outline: outlineForSubtask(context.files, subtask, context.packages, AGENT_OUTLINE_CHARS),
    worktreeRoot: deps.worktreeRoot,
    // Fix attempts spend what is left of the subtask's budgets (tokens and dollars at the gateway,
    // which counts the subtask's every call), and stop when the run's time is up.
    limits: limitsWithGateway(deps, {
      ...context.limits,
      maxTokens: context.limits.maxTokens - fix.limits.spentTokens,
      maxWallMs: Math.floor(context.limits.maxWallMs - fix.limits.spentMs),
    }),
    ...(fix.deadline ? { deadline: fix.deadline } : {}),
    network: run.config.network,
    networkAllow: run.config.networkAllow,
    resourceLimits: run.config.limits,
    feedback: fix.feedback.text,
    maxAttempts: 1,
    keepWorktree: true,
    sharedState: context.sharedState,
    ...(deps.redact ? { redact: deps.redact } : {}),
    ...(deps.prepareWorktree
      ? {
          prepareWorktree: (worktree: Worktree) =>
            deps.prepareWorktree!(worktree, run.config, { trustedCommit: run.baseCommit }),
        }
      : {}),
    reporterFor: () => fixReporter(deps, run.id, subtask.id, agentId, record.tokens),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  let pushed: { commit: string; files: string[]; validation: ValidationResult; inScope: boolean } | undefined;
  // Set as soon as the branch moved: whatever fails after that, the PR's head is this commit.
  let moved: string | undefined;
  let failure = outcome.kind === 'failed' ? outcome.message : 'the fix was committed but not validated';
  if (outcome.kind === 'succeeded') {
    try {
      await deps.forge.pushBranch(prBranch, outcome.commit, fix.head);
      moved = outcome.commit;
      await store.updateSubtask(run.id, subtask.id, {
        pr: { ...record.pr!, headSha: outcome.commit },
        commit: outcome.commit,
      });
      // Against the base as it is now: a PR updated with the base, or started after a dependency
      // merged, holds other subtasks' files that are not its own change.
      const files = await deps.workspace.changedBetween(
        run.repo,
        await deps.forge.fetchBase(run.baseBranch),
        outcome.commit,
      );
      const inScope = await publishScopeCheck(deps, outcome.commit, files, subtask.writeScope, run.config);
      const judging = { changedFiles: files, ...(run.baseline ? { baselineFailures: run.baseline.failing } : {}) };
      const validation = await validateAndPublish(
        deps,
        outcome.held?.worktree,
        outcome.commit,
        run.config,
        'after-fix',
        judging,
      );
      pushed = { commit: outcome.commit, files, inScope, validation };
    } catch (error) {
      if (deps.signal?.aborted || error instanceof DiskFullError) throw error;
      failure =
        error instanceof ForgeError && error.code === 'branch-moved'
          ? `someone pushed to ${prBranch} while the agent worked; the fix was not pushed`
          : redactSecrets(`Fanout failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      const changed = await context.sharedState.restore();
      if (changed.length > 0)
        await store.appendEvent(run.id, agentId, { type: 'shared-state-reverted', data: { paths: changed } });
      await outcome.held?.release();
    }
  }
  const current = (await store.getSubtask(run.id, subtask.id)) ?? record;
  const tokens = {
    prompt: (record.tokens?.prompt ?? 0) + outcome.tokens.prompt,
    completion: (record.tokens?.completion ?? 0) + outcome.tokens.completion,
  };
  const timings = { ...current.timings, agent: (current.timings?.agent ?? 0) + outcome.timings.agent };
  // Recorded where a gateway priced the calls (as the agent's first attempts were).
  const priced = deps.modelGrants !== undefined;
  const cost =
    priced || current.cost ? { cost: addCosts(current.cost, priced ? outcomeCost(outcome) : undefined) } : {};
  const done = {
    finishedAt: new Date().toISOString(),
    tokens: outcome.tokens,
    ...(priced ? { cost: outcomeCost(outcome) } : {}),
    outOfScope: [...new Set(fix.feedback.outOfScope.map((comment) => comment.path))],
  };
  const attempt: FixAttempt =
    outcome.kind === 'succeeded' && pushed
      ? { ...fix.attempt, ...done, state: 'pushed', commit: pushed.commit, message: outcome.summary }
      : moved
        ? {
            ...fix.attempt,
            ...done,
            state: 'pushed',
            commit: moved,
            message: `pushed, but Fanout could not check it: ${failure}`,
          }
        : { ...fix.attempt, ...done, state: 'not-fixed', message: failure };
  const fixes = (current.fixes ?? []).map((candidate) => (candidate.number === attempt.number ? attempt : candidate));
  if (!pushed) {
    // Pushed but not validated: the head is recorded, and its check is red rather than missing.
    const unchecked = moved
      ? { check: { passed: false, headSha: moved, summary: attempt.message ?? '', durationMs: 0 } }
      : {};
    await store.updateSubtask(run.id, subtask.id, { fixes, tokens, ...cost, timings, ...unchecked });
    return { attempt, validation: null };
  }
  const { merge: _merge, ...withoutMerge } = current;
  const validation = pushed.validation;
  const passed = validation.passed && pushed.inScope;
  // Only a red validation goes back to the agent: files outside the scope are not its to fix.
  const redAgain = !validation.passed && fixOnRedCheck(run) ? [{ kind: 'check' as const, headSha: pushed.commit }] : [];
  // The new head is a new candidate for the merge queue: an earlier verdict on the old head is dropped.
  await store.putSubtask({
    ...withoutMerge,
    fixes,
    tokens,
    ...cost,
    timings,
    commit: pushed.commit,
    filesChanged: pushed.files,
    pr: { ...current.pr!, headSha: pushed.commit },
    check: {
      passed,
      headSha: pushed.commit,
      summary: `after fix attempt ${attempt.number}: ${summarizeValidation(validation, run.config.validate.length)}`,
      durationMs: validation.durationMs,
      failed: failedCommands(validation),
    },
    updatedAt: new Date().toISOString(),
  });
  await queueFixRequests(store, run.id, subtask.id, redAgain);
  return { attempt, validation: { ...validation, passed } };
}

/** Replies where the request came from: the review's threads (and a new review request), or a comment on the PR. */
async function answer(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  record: SubtaskRecord,
  trigger: FixTrigger,
  feedback: Feedback,
  finished: FinishedFix,
): Promise<void> {
  const pr = record.pr!.number;
  const { attempt } = finished;
  if (trigger.kind === 'review') {
    for (const comment of feedback.outOfScope)
      await deps.forge.replyToReviewComment(pr, comment.id, outOfScopeReply(comment.path, subtask.writeScope));
    const reply =
      attempt.state === 'pushed' && attempt.commit
        ? addressedReply(attempt.commit, attempt.message ?? '')
        : notFixedReply(attempt.message ?? 'no change was made');
    for (const comment of feedback.inScope) await deps.forge.replyToReviewComment(pr, comment.id, reply);
    // A review without inline comments (or only out-of-scope ones) is answered on the PR.
    if (feedback.inScope.length === 0)
      await deps.forge.createComment(pr, fixComment(trigger, attempt, finished.validation));
    if (attempt.state === 'pushed') await deps.forge.requestReview(pr, [trigger.reviewer]);
  } else {
    await deps.forge.createComment(pr, fixComment(trigger, attempt, finished.validation));
  }
  const current = await deps.store.getSubtask(run.id, subtask.id);
  // The last attempt the cap allows made nothing better: nothing else will happen without a person.
  const capped = (current?.fixes?.length ?? 0) >= run.config.maxFixAttempts;
  if (current && capped && (attempt.state !== 'pushed' || current.check?.passed === false)) {
    await handToPerson(
      deps,
      run,
      current,
      attempt.state !== 'pushed'
        ? `fix attempt ${attempt.number}, the last of \`maxFixAttempts\` (${run.config.maxFixAttempts}), pushed nothing`
        : `the checks still fail after ${attempt.number} fix attempt(s) (\`maxFixAttempts\`: ${run.config.maxFixAttempts})`,
    );
  }
}

/** Labels the pull request, says what was tried, and stops fixing it. */
async function handToPerson(deps: PipelineDeps, run: RunRecord, record: SubtaskRecord, reason: string): Promise<void> {
  const pr = record.pr!.number;
  await deps.forge.addLabel(pr, NEEDS_HUMAN_LABEL);
  await deps.forge.createComment(pr, needsHumanComment(reason, record.fixes ?? []));
  await deps.store.updateSubtask(run.id, record.subtaskId, {
    needsHuman: { reason, at: new Date().toISOString() },
    fixRequests: [],
  });
}

/** The request as the agent reads it; review comments on files outside the scope are set apart. */
async function gatherFeedback(
  deps: PipelineDeps,
  run: RunRecord,
  subtask: Subtask,
  pr: number,
  trigger: FixTrigger,
  head: string,
): Promise<Feedback> {
  if (trigger.kind === 'command')
    return { text: commandFeedbackText(trigger.by, trigger.instructions), inScope: [], outOfScope: [] };
  if (trigger.kind === 'check')
    return { text: checkFailuresText(await deps.forge.checkFailures(head)), inScope: [], outOfScope: [] };
  const review = await deps.forge.reviewFeedback(pr, trigger.reviewId);
  const canWrite = createWriteMatcher(subtask.writeScope, protectedPaths(run.config.protectedPaths));
  const inScope = review.comments.filter((comment) => canWrite(comment.path));
  const outOfScope = review.comments.filter((comment) => !canWrite(comment.path));
  const withCode: CommentInContext[] = [];
  for (const comment of inScope) {
    const content = comment.line === null ? null : await deps.workspace.readFileAt(run.repo, head, comment.path);
    withCode.push({
      comment,
      code: content === null || comment.line === null ? '' : codeAround(content, comment.line),
    });
  }
  return { text: reviewFeedbackText(review, withCode, outOfScope), inScope, outOfScope };
}

/** Reports a fix attempt's events to its own log; its tokens add to what the subtask spent before. */
function fixReporter(
  deps: PipelineDeps,
  runId: string,
  subtaskId: string,
  agentId: string,
  before: SubtaskRecord['tokens'],
): AgentReporter {
  return {
    async event(type, data) {
      await deps.store.appendEvent(runId, agentId, { type, ...(data ? { data } : {}) });
    },
    async progress({ step, lastTool, tokens }) {
      const total = {
        prompt: (before?.prompt ?? 0) + tokens.prompt,
        completion: (before?.completion ?? 0) + tokens.completion,
      };
      await deps.store.updateSubtask(runId, subtaskId, { step, ...(lastTool ? { lastTool } : {}), tokens: total });
    },
  };
}
