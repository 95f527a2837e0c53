import type { Context } from 'probot';
import type { CommandRecord } from '../domain/command.js';
import { FanoutError } from '../domain/errors.js';
import type { AppDeps, IntakeLog } from './app-deps.js';
import { IntakeUnavailableError } from './intake-error.js';
import { parseCommand, parseFixCommand } from './parse-command.js';
import { targetFromPayload } from './webhook-target.js';

type CommentPayload = Context<'issue_comment.created'>['payload'];

/**
 * `issue_comment.created`: a command from a person on an issue is stored before the delivery is
 * answered, then handed to the queue. A redelivery, or the same comment under another delivery id,
 * is acknowledged and not queued again. Only a failed store write escapes (as a 503).
 */
export async function receiveIssueComment(
  deliveryId: string,
  payload: CommentPayload,
  deps: AppDeps,
  log: IntakeLog,
): Promise<void> {
  const record = commandRecord(deliveryId, payload, deps.appId, log);
  if (!record) return;
  let stored: boolean;
  try {
    stored = await deps.store.recordCommand(record);
  } catch (error) {
    // A delivery id that cannot name a record will never be storable: answering 503 would only
    // invite redeliveries. GitHub's ids are GUIDs, so this is a forged or broken request.
    if (error instanceof FanoutError && error.code === 'bad-id') {
      log.warn({ err: error }, 'command ignored: unusable delivery id or repository name');
      return;
    }
    throw new IntakeUnavailableError('The command could not be stored; redeliver this webhook.', { cause: error });
  }
  if (!stored) {
    log.info(
      { commentId: record.commentId },
      'command already received (redelivery or same comment); not queued again',
    );
    return;
  }
  try {
    await deps.queue.enqueueCommand(record.id);
  } catch (error) {
    // The command is stored: the next start queues it again (recover), so the delivery stands.
    log.error({ err: error }, 'command stored but not queued; it is taken up at the next start');
  }
}

/** The record to store for this comment, or null (with the reason logged) when it is not a command to take. */
function commandRecord(
  deliveryId: string,
  payload: CommentPayload,
  appId: number,
  log: IntakeLog,
): CommandRecord | null {
  const { comment, issue, sender } = payload;
  if (comment.user?.type === 'Bot' || sender.type === 'Bot') return skip(log, 'comment by a bot');
  if (comment.performed_via_github_app?.id === appId) return skip(log, "Fanout's own comment");
  // `/orchestrate` starts runs for an issue; on a pull request it is most likely quoted from the
  // issue. A pull request takes `/fanout fix` (processing checks that it is one of Fanout's).
  const command = issue.pull_request ? parseFixCommand(comment.body) : parseCommand(comment.body);
  if (!command) return null;
  const target = targetFromPayload(payload);
  if (!target) return skip(log, 'no installation in the payload', 'warn');
  const now = new Date().toISOString();
  return {
    id: deliveryId,
    target,
    issue: issue.number,
    commentId: comment.id,
    sender: sender.login,
    command,
    state: 'received',
    receivedAt: now,
    updatedAt: now,
  };
}

function skip(log: IntakeLog, reason: string, level: 'debug' | 'warn' = 'debug'): null {
  log[level](`comment ignored: ${reason}`);
  return null;
}
