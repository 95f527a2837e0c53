import { parseRepoConfig, REPO_CONFIG_PATH } from '../../config/repo-config.js';
import { AGENT_BACKEND_NAMES } from '../../domain/agent-backend.js';
import type { CommandRecord, GitHubTarget, IssueCommand } from '../../domain/command.js';
import { ConfigError, FanoutError } from '../../domain/errors.js';
import { FINISHED_RUN_STATES, moveRun, subtaskForResume } from '../../domain/run-transitions.js';
import type { RunRecord } from '../../domain/run.js';
import { redactSecrets } from '../../domain/secrets.js';
import type { CoordStore } from '../../ports/coord-store.js';
import { renderStatusComment } from '../../report/render-status-comment.js';
import type { PipelineDeps } from '../pipeline-deps.js';
import { requestFix } from '../fix-requests.js';
import { startRun } from '../start-run.js';
import { upsertStatusComment } from '../status-comment.js';
import { alreadyAnswered, arrivedDuringRun } from './command-burst.js';
import { COMMAND_HELP } from './command-help.js';
import type { RepositoryPipelines } from './repository-pipelines.js';
import type { RunStarter } from '../run-starter.js';

export interface CommandContext {
  store: CoordStore;
  pipelines: RepositoryPipelines;
  executor: RunStarter;
}

/** What a command comes to; `posted: false` records the outcome without a comment. */
type Reply = { state: CommandRecord['state']; outcome: string; runId?: string; posted?: false };

/**
 * Acts on a stored `/orchestrate` command: acknowledges it, checks that the commenter may write to
 * the repository, and starts, reports on, cancels, retries or approves a run. Every answer is a
 * comment on the issue and is recorded on the command, so a restart never acts twice.
 */
export async function processCommand(context: CommandContext, id: string): Promise<void> {
  const command = await context.store.getCommand(id);
  if (!command || command.state !== 'received') return;
  const { deps, cloneDir } = await context.pipelines.open(command.target);
  const forge = deps.forge;
  // The reaction only says "seen"; a comment deleted meanwhile must not stop the command.
  await forge.acknowledge(command.commentId).catch(() => undefined);
  let reply: Reply;
  try {
    const permission = await forge.userPermission(command.sender);
    reply =
      permission === 'admin' || permission === 'write'
        ? await act(context, command, deps, cloneDir)
        : {
            state: 'refused',
            outcome: `Sorry @${command.sender}, only people with write access to this repository can run Fanout.`,
          };
  } catch (error) {
    if (!(error instanceof FanoutError)) throw error;
    reply = { state: 'failed', outcome: `Fanout could not do that: ${redactSecrets(error.message)}` };
  }
  if (reply.outcome && reply.posted !== false) await forge.createComment(command.issue, reply.outcome);
  await context.store.updateCommand(id, {
    state: reply.state,
    outcome: reply.outcome,
    ...(reply.runId ? { runId: reply.runId } : {}),
    ...(reply.posted === false ? { posted: false } : {}),
  });
}

async function act(
  context: CommandContext,
  command: CommandRecord,
  deps: PipelineDeps,
  cloneDir: string,
): Promise<Reply> {
  const forge = deps.forge;
  if (command.command.kind === 'fix') return fix(context, command, command.command.instructions);
  const current = await runOfIssue(context.store, command.target, command.issue);
  switch (command.command.kind) {
    case 'orchestrate':
      if (current && arrivedDuringRun(command, current)) return underWay(context, command, current);
      return orchestrate(context, command, deps, command.command, cloneDir);
    case 'status': {
      if (!current)
        return { state: 'done', outcome: 'No Fanout run on this issue yet. Start one with `/orchestrate <task>`.' };
      await upsertStatusComment(
        { store: context.store, forge },
        current,
        renderStatusComment(current, await context.store.listSubtasks(current.id)),
      );
      return { state: 'done', outcome: '', runId: current.id };
    }
    case 'cancel': {
      if (!current || FINISHED_RUN_STATES.has(current.state))
        return { state: 'done', outcome: 'There is no active Fanout run on this issue to cancel.' };
      if (!context.executor.cancel(current.id))
        await context.store.updateRun(
          current.id,
          moveRun(current, 'cancelled', { error: `cancelled by @${command.sender}` }),
        );
      return {
        state: 'done',
        outcome: `Cancelling run \`${current.id}\`. Work already pushed stays on its branches; \`/orchestrate retry <subtask>\` picks a subtask up again.`,
        runId: current.id,
      };
    }
    case 'retry':
      return retry(context, command, current, command.command.subtask);
    case 'approve': {
      if (current?.state !== 'awaiting-approval')
        return { state: 'done', outcome: 'There is no plan waiting for approval on this issue.' };
      await context.store.updateRun(current.id, moveRun(current, 'running'));
      void context.executor.start(current.id);
      return {
        state: 'done',
        outcome: `Plan approved by @${command.sender}; the agents are starting.`,
        runId: current.id,
      };
    }
    case 'help':
      return { state: 'done', outcome: `${helpPreface(command.command)}${COMMAND_HELP}` };
  }
}

/** What the help reply says first: the agent or the command Fanout did not know. */
function helpPreface(command: Extract<IssueCommand, { kind: 'help' }>): string {
  if (command.unknownAgent !== undefined)
    return `Fanout has no agent backend \`${command.unknownAgent}\`; it knows ${AGENT_BACKEND_NAMES.map((name) => `\`${name}\``).join(', ')} (\`/orchestrate --agent NAME <task>\`).\n\n`;
  return command.unknown ? `I do not know \`/orchestrate ${command.unknown}\`.\n\n` : '';
}

/**
 * The answer to an `/orchestrate` that came while a run was under way: it starts nothing. The
 * first such command per run gets a reply; the rest of a burst is only recorded.
 */
async function underWay(context: CommandContext, command: CommandRecord, run: RunRecord): Promise<Reply> {
  const working = !FINISHED_RUN_STATES.has(run.state);
  const outcome = working
    ? `Run \`${run.id}\` is already working on this issue (${run.state}), so this command starts nothing. \`/orchestrate status\` shows it; \`/orchestrate cancel\` stops it. Further \`/orchestrate\` comments while it works get no answer of their own.`
    : `Run \`${run.id}\` was already working on this issue when this command arrived, so it started nothing (the run has since ended: ${run.state}). To start a new run, comment \`/orchestrate <task>\` again.`;
  const answered = alreadyAnswered(await context.store.listCommands(), command, run.id);
  return { state: 'refused', outcome, runId: run.id, ...(answered ? { posted: false as const } : {}) };
}

async function orchestrate(
  context: CommandContext,
  command: CommandRecord,
  deps: PipelineDeps,
  { task, agent }: Extract<IssueCommand, { kind: 'orchestrate' }>,
  cloneDir: string,
): Promise<Reply> {
  const baseBranch = command.target.defaultBranch;
  const baseCommit = await deps.forge.fetchBase(baseBranch);
  let config;
  try {
    config = parseRepoConfig(await deps.workspace.readFileAt(cloneDir, baseCommit, REPO_CONFIG_PATH));
  } catch (error) {
    if (error instanceof ConfigError)
      return {
        state: 'failed',
        outcome: `Fanout cannot start: ${error.message}\n\nFix \`${REPO_CONFIG_PATH}\` on \`${baseBranch}\` and comment again.`,
      };
    throw error;
  }
  const { owner, repo, installationId, cloneUrl, htmlUrl } = command.target;
  const run = await startRun(deps, {
    repoDir: cloneDir,
    task,
    config,
    ...(agent ? { agent } : {}),
    baseBranch,
    baseCommit,
    origin: {
      kind: 'github',
      owner,
      repo,
      installationId,
      issue: command.issue,
      commentId: command.commentId,
      requestedBy: command.sender,
      cloneUrl,
      htmlUrl,
    },
  });
  // The status comment is the answer: it exists before any agent starts.
  await upsertStatusComment({ store: context.store, forge: deps.forge }, run, renderStatusComment(run, []));
  void context.executor.start(run.id);
  return { state: 'done', outcome: '', runId: run.id };
}

async function retry(
  context: CommandContext,
  command: CommandRecord,
  run: RunRecord | null,
  subtaskId: string,
): Promise<Reply> {
  if (!run) return { state: 'done', outcome: 'No Fanout run on this issue to retry.' };
  const record = await context.store.getSubtask(run.id, subtaskId);
  if (!record) {
    const ids = (await context.store.listSubtasks(run.id)).map((candidate) => `\`${candidate.subtaskId}\``).join(', ');
    return {
      state: 'done',
      outcome: `Run \`${run.id}\` has no subtask \`${subtaskId}\`; its subtasks are ${ids || '(none yet)'}.`,
    };
  }
  if (record.merge?.state === 'merged')
    return { state: 'done', outcome: `\`${subtaskId}\` is already merged.`, runId: run.id };
  const retriable = record.state === 'failed' || record.state === 'cancelled' || record.merge?.state === 'failed';
  if (!retriable)
    return {
      state: 'done',
      outcome: `\`${subtaskId}\` has not failed (${record.state}); nothing to retry.`,
      runId: run.id,
    };
  if (record.state === 'failed' || record.state === 'cancelled') {
    // Started over with what it spent still counted, as `resume --retry-failed` does.
    await context.store.putSubtask(subtaskForResume(record, true, new Date().toISOString())!);
  } else {
    const { merge: _merge, ...rest } = record;
    await context.store.putSubtask({ ...rest, updatedAt: new Date().toISOString() });
  }
  if (FINISHED_RUN_STATES.has(run.state) || run.state === 'merging')
    await context.store.updateRun(run.id, moveRun(run, 'running'));
  void context.executor.start(run.id);
  return { state: 'done', outcome: `Retrying \`${subtaskId}\` (asked by @${command.sender}).`, runId: run.id };
}

/** `/fanout fix` on a pull request: a fix attempt on the subtask whose pull request it is. */
async function fix(context: CommandContext, command: CommandRecord, instructions: string): Promise<Reply> {
  const owned = await subtaskOfPullRequest(context.store, command.target, command.issue);
  if (!owned)
    return {
      state: 'done',
      outcome: "This pull request is not one of Fanout's open subtasks, so there is no agent to send back to it.",
    };
  const { run, subtaskId } = owned;
  const refusal = await requestFix(context.store, run, subtaskId, {
    kind: 'command',
    by: command.sender,
    instructions,
  });
  if (refusal) return { state: 'done', outcome: refusal, runId: run.id };
  void context.executor.start(run.id);
  const record = await context.store.getSubtask(run.id, subtaskId);
  // This request's place: after the attempts made and the requests queued before it.
  const number = (record?.fixes?.length ?? 0) + (record?.fixRequests?.length ?? 1);
  if (number > run.config.maxFixAttempts) {
    return {
      state: 'done',
      outcome: `\`${subtaskId}\` has used its ${run.config.maxFixAttempts} fix attempt(s) (\`maxFixAttempts\`): Fanout hands this pull request to a person.`,
      runId: run.id,
    };
  }
  return {
    state: 'done',
    outcome: `Sending \`${subtaskId}\`'s agent back to this pull request (asked by @${command.sender}; fix attempt ${number} of at most ${run.config.maxFixAttempts}).`,
    runId: run.id,
  };
}

/** The run and subtask whose pull request this is (the newest run, if several). */
export async function subtaskOfPullRequest(
  store: CoordStore,
  target: GitHubTarget,
  pullRequest: number,
): Promise<{ run: RunRecord; subtaskId: string } | null> {
  const runs = (await store.listRuns())
    .filter(
      (run) => run.origin.kind === 'github' && run.origin.owner === target.owner && run.origin.repo === target.repo,
    )
    .reverse();
  for (const run of runs) {
    const record = (await store.listSubtasks(run.id)).find((candidate) => candidate.pr?.number === pullRequest);
    if (record) return { run, subtaskId: record.subtaskId };
  }
  return null;
}

/** The newest run started from this issue. */
async function runOfIssue(store: CoordStore, target: GitHubTarget, issue: number): Promise<RunRecord | null> {
  const runs = (await store.listRuns()).filter(
    (run) =>
      run.origin.kind === 'github' &&
      run.origin.owner === target.owner &&
      run.origin.repo === target.repo &&
      run.origin.issue === issue,
  );
  return runs.at(-1) ?? null;
}
