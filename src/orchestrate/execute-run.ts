import { worktreePool } from '../agent/run-subtask.js';
import { ConfigError, DiskFullError, FanoutError } from '../domain/errors.js';
import type { Subtask } from '../domain/plan.js';
import { protectedPaths } from '../domain/protected-paths.js';
import { agentBackendOf, type RunRecord, type SubtaskRecord } from '../domain/run.js';
import { moveRun, runFinished, runPlanned, runTakenOver, subtaskForResume } from '../domain/run-transitions.js';
import { formatProbeReport } from '../model/probe.js';
import { planTask } from '../plan/planner.js';
import { buildRunReport, FALLBACK_ID, type RunReport } from '../report/run-report.js';
import { agentJobContext, fallbackSubtask, runAgentJob } from './run-agent-job.js';
import { mergeAhead, mergeRun, runFixes } from './merge-phase.js';
import { addNote, requireRun } from './run-records.js';
import { withPendingFixes } from './fix-requests.js';
import { describeRedBaseline, measureBaseline } from './baseline.js';
import { LocalDispatcher, type AgentDispatcher } from './dispatcher.js';
import type { SharedStateGuard } from '../ports/workspace.js';
import type { PipelineDeps } from './pipeline-deps.js';
import { haltOnFullDisk, stopForFullDisk } from './full-disk.js';
import { currentOwner, runIsLive } from './run-owner.js';
import { waitForSubtasks } from './wait-for-subtasks.js';

// A cancelled run is continued by executeRun (resume); these are not, unless prepareResume reopens them.
const FINISHED_RUN = new Set<RunRecord['state']>(['succeeded', 'partial', 'failed']);
const RERUNNABLE = new Set<SubtaskRecord['state']>(['pending', 'running', 'cancelled']);

/**
 * Drives a run from wherever its stored state says it is: plan → agents → fallback → merge →
 * report. Calling it again on an interrupted run resumes it without redoing finished subtasks.
 */
export async function executeRun(deps: PipelineDeps, runId: string): Promise<RunReport> {
  // A full disk anywhere stops the whole run, the agents still at work included.
  const halt = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, halt.signal]) : halt.signal;
  await deps.diskReserve?.keep().catch(() => undefined);
  try {
    return await drive({ ...deps, signal }, runId, (error) => halt.abort(error));
  } catch (error) {
    if (!(error instanceof DiskFullError)) throw error;
    // Released worktrees are tidied first: what that frees is room for the last records too.
    await deps.workspace.settled().catch(() => undefined);
    return await stopForFullDisk(deps, runId, error);
  } finally {
    // Released worktrees are tidied in the background; a run ends with its pool slots free.
    await deps.workspace.settled();
  }
}

async function drive(deps: PipelineDeps, runId: string, halt: (error: DiskFullError) => void): Promise<RunReport> {
  let run = await requireRun(deps, runId);
  // A fix asked for just as the last pass ended the run: the run goes on to it.
  if (FINISHED_RUN.has(run.state) && withPendingFixes(await deps.store.listSubtasks(run.id)).length > 0)
    run = await deps.store.updateRun(run.id, moveRun(run, 'merging'));
  if (FINISHED_RUN.has(run.state) || run.state === 'awaiting-approval') return report(deps, run);
  const config = run.config;
  await pruneAbandonedWorktrees(deps, run);
  run = await deps.store.updateRun(run.id, runTakenOver(run, currentOwner(), deps.sandbox, deps.commandLimits));
  // An agent CLI that is missing, or of a version Fanout was not tested with, stops the run here,
  // with the reason, before any token is spent (not each subtask as it starts). A run already
  // merging keeps merging what its agents did.
  const unavailable = run.state === 'merging' ? null : await backendProblem(deps, run);
  if (unavailable) return fail(deps, run, unavailable);
  // Worktrees get ready at the base while the baseline runs and the planner thinks.
  if (!run.plan)
    deps.workspace.warmPool({
      repoDir: run.repo,
      poolRoot: worktreePool(deps.worktreeRoot),
      commit: run.baseCommit,
      count: Math.min(config.maxAgents, config.maxSubtasks),
      keepIgnored: deps.prepareWorktree !== undefined,
    });

  // The base must pass validation before a token is spent: a red base is no agent's fault.
  if (!run.plan && !run.baseline && config.validate.length > 0) {
    const baseline = await measureBaseline(deps, run);
    run = await deps.store.updateRun(run.id, { baseline: { failing: baseline.failing.map((command) => command.run) } });
    if (
      baseline.failing.length > 0 &&
      (config.baseline === 'required' || baseline.failing.some((command) => command.run === 'environment setup'))
    ) {
      return fail(deps, run, describeRedBaseline(run, baseline));
    }
  }

  const probe = await deps.probes.check(deps.llm);
  if (deps.signal?.aborted) return cancel(deps, run);
  if (!probe.ok)
    return fail(deps, run, `The model cannot drive agents; no agent was started.\n${formatProbeReport(probe)}`);

  // One listing of the base commit serves the planner and every agent's outline; a few manifests
  // name the repository's packages, which the planner and every outline show.
  const jobContext = await agentJobContext(deps, run);
  const { files, packages, sharedState } = jobContext;
  if (!run.plan) {
    let planned;
    try {
      planned = await planTask({
        llm: deps.llm,
        task: run.task,
        files,
        packages,
        maxSubtasks: config.maxSubtasks,
        protectedPaths: protectedPaths(config.protectedPaths),
        ...(run.hints ? { hints: run.hints } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
    } catch (error) {
      if (deps.signal?.aborted) return cancel(deps, run);
      if (error instanceof DiskFullError) throw error;
      if (error instanceof FanoutError) return fail(deps, run, `Planning failed: ${error.message}`);
      throw error;
    }
    for (const subtask of planned.plan.subtasks) {
      await deps.store.putSubtask({
        runId: run.id,
        subtaskId: subtask.id,
        state: 'pending',
        attempt: 0,
        step: 0,
        updatedAt: new Date().toISOString(),
      });
    }
    run = await deps.store.updateRun(run.id, runPlanned(run, planned.plan, planned.notes, config.plan === 'review'));
    deps.failpoint?.('after-plan');
    if (run.state === 'awaiting-approval') return report(deps, run);
  } else if (run.state !== 'merging') {
    run = await deps.store.updateRun(run.id, moveRun(run, 'running'));
  }
  const plan = run.plan!;
  const dispatcher =
    deps.dispatcherFor?.(run) ??
    new LocalDispatcher(config.maxAgents, (job) => haltOnFullDisk(runAgentJob(deps, job, jobContext), halt));

  run = await runInWaves(deps, dispatcher, run, sharedState, halt);
  if (deps.signal?.aborted) return cancel(deps, run);

  let effective = plan.subtasks;
  const planned = (await deps.store.listSubtasks(run.id)).filter((record) =>
    plan.subtasks.some((subtask) => subtask.id === record.subtaskId),
  );
  const fallbackRecord = await deps.store.getSubtask(run.id, FALLBACK_ID);
  if (fallbackRecord || (planned.length > 0 && planned.every((record) => record.state === 'failed'))) {
    const fallback = fallbackSubtask(run.task);
    if (!fallbackRecord) {
      await deps.store.putSubtask({
        runId: run.id,
        subtaskId: FALLBACK_ID,
        state: 'pending',
        attempt: 0,
        step: 0,
        updatedAt: new Date().toISOString(),
      });
      run = await addNote(deps, run, 'Every planned agent failed; fell back once to a single agent on the whole task.');
    }
    await runAgents(deps, dispatcher, run, [fallback]);
    if (deps.signal?.aborted) return cancel(deps, run);
    effective = [fallback];
  }

  // Reviews and red checks ask for fixes: they run before the queue looks at those PRs again,
  // and a PR the queue finds red waits for its fix (each round uses up fix attempts, so it ends).
  for (let round = 0; round < 20; round += 1) {
    await runFixes(deps, dispatcher, run, [...plan.subtasks, ...effective]);
    if (deps.signal?.aborted) return cancel(deps, run);
    run = await deps.store.updateRun(run.id, moveRun(await requireRun(deps, run.id), 'merging'));
    const merging = (fence?: () => Promise<void>) => mergeRun(deps, run, effective, config, sharedState, fence);
    await (deps.mergeExclusively ? deps.mergeExclusively(merging) : merging());
    if (withPendingFixes(await deps.store.listSubtasks(run.id)).length === 0) break;
  }
  // Re-validation runs the repository's commands again.
  const changedByValidation = await sharedState.restore();
  if (changedByValidation.length > 0)
    run = await addNote(
      deps,
      run,
      `Validation commands changed ${changedByValidation.map((path) => `.git/${path}`).join(', ')}; Fanout put them back.`,
    );
  const records = await deps.store.listSubtasks(run.id);
  // A pull request waiting for checks or a review (or a subtask waiting for it) keeps the run
  // merging; the next event continues it.
  if (records.some((record) => record.merge?.state === 'waiting' || record.state === 'pending'))
    return report(deps, run);
  run = await deps.store.updateRun(
    run.id,
    runFinished(
      run,
      records,
      effective.map((subtask) => subtask.id),
    ),
  );
  return report(deps, run);
}

/**
 * Resets what a resume should redo: interrupted agents (and those a full disk stopped) always,
 * failed ones and failed merges when asked.
 */
export async function prepareResume(
  deps: Pick<PipelineDeps, 'store'>,
  runId: string,
  options: { retryFailed: boolean },
): Promise<RunRecord> {
  const run = await requireRun(deps, runId);
  if (run.state === 'awaiting-approval') return run;
  for (const record of await deps.store.listSubtasks(runId)) {
    const reset = subtaskForResume(record, options.retryFailed, new Date().toISOString());
    if (reset) await deps.store.putSubtask(reset);
  }
  // Stopped by a full disk: nothing failed on its own, so a plain resume goes on.
  if (FINISHED_RUN.has(run.state) && !options.retryFailed && run.stoppedBy !== 'disk-full') return run;
  // What stopped the last pass (a failure it recorded) no longer stands once the run goes on.
  return deps.store.updateRun(runId, moveRun(run, run.plan ? 'running' : 'planning', { error: undefined }));
}

/**
 * Runs the plan's agents in waves: a subtask starts once every subtask it depends on has merged,
 * from the base that holds that work; one whose dependency failed is not started. Between waves,
 * what the next wave needs is merged. A wave whose dependencies still wait (checks, a review)
 * ends the pass: the next event continues it.
 */
async function runInWaves(
  deps: PipelineDeps,
  dispatcher: AgentDispatcher,
  run: RunRecord,
  sharedState: SharedStateGuard,
  halt: (error: DiskFullError) => void,
): Promise<RunRecord> {
  const plan = run.plan!;
  const ahead = mergeAhead(deps, run, plan.subtasks, sharedState);
  for (;;) {
    const records = await deps.store.listSubtasks(run.id);
    const record = (id: string) => records.find((candidate) => candidate.subtaskId === id);
    const waiting = plan.subtasks.filter((subtask) => RERUNNABLE.has(record(subtask.id)?.state ?? 'pending'));
    const broken = (subtask: Subtask) =>
      subtask.dependsOn.find(
        (id) => ['failed', 'cancelled'].includes(record(id)?.state ?? '') || record(id)?.merge?.state === 'failed',
      );
    for (const subtask of waiting) {
      const dependency = broken(subtask);
      if (!dependency) continue;
      await deps.store.updateSubtask(run.id, subtask.id, {
        state: 'failed',
        failureReason: 'dependency-failed',
        failureMessage: `not started because "${dependency}", which it depends on, did not merge`,
        finishedAt: new Date().toISOString(),
      });
    }
    const startable = waiting.filter((subtask) => !broken(subtask));
    const ready = startable.filter((subtask) => subtask.dependsOn.every((id) => record(id)?.merge?.state === 'merged'));
    const independent = ready.filter((subtask) => subtask.dependsOn.length === 0);
    const dependent = ready.filter((subtask) => subtask.dependsOn.length > 0);
    // While they run, the finished front of the plan already merges (plan order is kept).
    if (independent.length > 0) {
      await runAgents(deps, dispatcher, run, independent, run.baseCommit, () => haltOnFullDisk(ahead(), halt));
    }
    // Dependents start from the base as it is now, which holds their dependencies' work.
    if (dependent.length > 0)
      await runAgents(deps, dispatcher, run, dependent, await deps.forge.fetchBase(run.baseBranch));
    if (deps.signal?.aborted) return run;
    const blocked = startable.filter((subtask) => !ready.includes(subtask));
    if (blocked.length === 0) return run;
    const mergedBefore = records.filter((candidate) => candidate.merge?.state === 'merged').length;
    await runFixes(deps, dispatcher, run, plan.subtasks);
    if (deps.signal?.aborted) return run;
    run = await deps.store.updateRun(run.id, moveRun(run, 'merging'));
    const merging = (fence?: () => Promise<void>) => mergeRun(deps, run, plan.subtasks, run.config, sharedState, fence);
    await (deps.mergeExclusively ? deps.mergeExclusively(merging) : merging());
    const mergedAfter = (await deps.store.listSubtasks(run.id)).filter(
      (candidate) => candidate.merge?.state === 'merged',
    ).length;
    if (mergedAfter === mergedBefore && ready.length === 0) return run;
    run = await deps.store.updateRun(run.id, moveRun(run, 'running'));
  }
}

async function runAgents(
  deps: PipelineDeps,
  dispatcher: AgentDispatcher,
  run: RunRecord,
  subtasks: readonly Subtask[],
  baseCommit = run.baseCommit,
  whileRunning?: () => Promise<void>,
): Promise<void> {
  const existing = await deps.store.listSubtasks(run.id);
  const todo = subtasks.filter((subtask) => {
    const record = existing.find((candidate) => candidate.subtaskId === subtask.id);
    return !record || RERUNNABLE.has(record.state);
  });
  if (todo.length === 0) return;
  const generations = new Map<string, string>();
  for (const subtask of todo) {
    const record = existing.find((candidate) => candidate.subtaskId === subtask.id);
    // Queued or running already (a process that died had dispatched it): the same job, waited for.
    if (record?.dispatch && !record.dispatch.over && (record.state === 'pending' || record.state === 'running')) {
      generations.set(subtask.id, String(record.dispatch.generation));
      continue;
    }
    // A subtask started over keeps what its earlier tries spent (see subtaskForResume).
    const earlier = record?.earlier;
    // Never a generation used before: a job that ended (cancelled, say) is kept a while under its id.
    const generation = (record?.dispatch?.generation ?? -1) + 1;
    generations.set(subtask.id, String(generation));
    await deps.store.putSubtask({
      runId: run.id,
      subtaskId: subtask.id,
      state: 'pending',
      attempt: earlier?.attempts ?? 0,
      step: 0,
      ...(earlier ? { earlier, tokens: earlier.tokens, ...(earlier.cost ? { cost: earlier.cost } : {}) } : {}),
      dispatch: { generation },
      updatedAt: new Date().toISOString(),
    });
  }
  // Woken by subtask changes, one pass at a time; bursts of changes make one more pass, not many.
  let passes: Promise<void> = Promise.resolve();
  let queued = false;
  const kick = () => {
    if (queued || !whileRunning || deps.signal?.aborted) return;
    queued = true;
    passes = passes.then(async () => {
      queued = false;
      // A failure here is met again, and reported, by the merge phase after the agents.
      await whileRunning().catch(() => undefined);
    });
  };
  const unsubscribe = whileRunning
    ? deps.store.watch(run.id, (change) => change.kind === 'subtask' && kick())
    : () => undefined;
  const jobs = Promise.allSettled(
    todo.map((subtask) =>
      dispatcher.dispatch({
        kind: 'agent',
        runId: run.id,
        subtaskId: subtask.id,
        baseCommit,
        generation: generations.get(subtask.id)!,
      }),
    ),
  );
  let records: SubtaskRecord[];
  try {
    records = await waitForSubtasks(
      deps.store,
      run.id,
      todo.map((subtask) => subtask.id),
      jobs,
    );
    await jobs;
  } finally {
    unsubscribe();
    await passes;
  }
  if (deps.signal?.aborted) return;
  // A job elsewhere (a worker) that found its disk full: the run stops as when it happens here.
  const full = records.find((record) => record.failureReason === 'disk-full');
  if (full) throw new DiskFullError(`running the agent of "${full.subtaskId}" on ${full.ranOn ?? 'a worker'}`);
  // A job that ended without recording an outcome died; say so rather than leave it "running".
  for (const record of records.filter((candidate) => candidate.state === 'pending' || candidate.state === 'running')) {
    const current = await deps.store.getSubtask(run.id, record.subtaskId);
    if (current && (current.state === 'pending' || current.state === 'running')) {
      await deps.store.updateSubtask(run.id, record.subtaskId, {
        state: 'failed',
        failureReason: 'crashed',
        failureMessage: 'the agent job ended without reporting an outcome',
        finishedAt: new Date().toISOString(),
      });
    }
  }
}

/**
 * A crash leaves worktrees behind: this run's own (it is starting over), and those of any run
 * whose process is gone. Branches, where the work lives, are never deleted.
 */
async function pruneAbandonedWorktrees(deps: PipelineDeps, run: RunRecord): Promise<void> {
  const live = new Set(
    (await deps.store.listRuns()).filter((other) => other.id !== run.id && runIsLive(other)).map((other) => other.id),
  );
  // The pool's worktrees are kept for reuse; a dead holder's slot is simply free again.
  await deps.workspace.pruneStale(
    run.repo,
    deps.worktreeRoot,
    (relativePath) => relativePath.startsWith('pool/') || live.has(relativePath.split('/')[0] ?? ''),
  );
}

/** Why the run's agent backend cannot run here (its ConfigError's words), or null. */
async function backendProblem(deps: PipelineDeps, run: RunRecord): Promise<string | null> {
  const name = agentBackendOf(run);
  try {
    await deps.agents(name);
    return null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return `The ${name} agent cannot run here; no agent was started.\n${error.message}`;
  }
}

async function fail(deps: PipelineDeps, run: RunRecord, error: string): Promise<RunReport> {
  return report(deps, await deps.store.updateRun(run.id, moveRun(run, 'failed', { error })));
}

async function cancel(deps: PipelineDeps, run: RunRecord): Promise<RunReport> {
  // Halted by a full disk: executeRun ends the run as failed, with the cause.
  if (deps.signal?.reason instanceof DiskFullError) throw deps.signal.reason;
  // Cancelled by someone (the store says so, with who): that is the reason kept. Stopped because
  // this process lost the run (its lease ran out): nothing is recorded, the run goes on elsewhere.
  const current = await requireRun(deps, run.id);
  const lost = deps.signal?.reason instanceof FanoutError && deps.signal.reason.code === 'lease-lost';
  if (current.state === 'cancelled' || lost) return report(deps, current);
  return report(deps, await deps.store.updateRun(run.id, moveRun(current, 'cancelled', { error: 'interrupted' })));
}

async function report(deps: Pick<PipelineDeps, 'store'>, run: RunRecord): Promise<RunReport> {
  return buildRunReport(run, await deps.store.listSubtasks(run.id));
}
