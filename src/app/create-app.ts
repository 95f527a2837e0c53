import type { Context, Probot } from 'probot';
import type { PullRequestEvent } from '../domain/command.js';
import type { AppDeps, IntakeLog } from './app-deps.js';
import { receiveIssueComment } from './command-intake.js';
import { IntakeUnavailableError } from './intake-error.js';
import { checksEvent, closedEvent, pushedEvent, reviewEvent, statusEvent } from './pull-request-events.js';
import { targetFromPayload, type TargetPayload } from './webhook-target.js';

/**
 * The Probot app function: one handler per event, each parsing, filtering, storing and enqueueing,
 * with no API call, so a delivery is answered in milliseconds. Only a failed command store escapes
 * (503, so the delivery can be redelivered); anything else is logged, since an error that escaped
 * would become the HTTP answer (an Octokit 404 answers 404).
 */
export function createApp(deps: AppDeps): (app: Probot) => void {
  return (app) => {
    app.on('issue_comment.created', (context) =>
      guarded(context, deps, (log) => receiveIssueComment(context.id, context.payload, deps, log)),
    );
    app.on('pull_request_review.submitted', (context) => forward(context, deps, () => reviewEvent(context.payload)));
    app.on('check_run.completed', (context) => forward(context, deps, () => checksEvent(context.payload)));
    app.on('check_suite.completed', (context) => forward(context, deps, () => checksEvent(context.payload)));
    app.on('status', (context) => forward(context, deps, () => statusEvent(context.payload)));
    app.on('pull_request.closed', (context) => forward(context, deps, () => closedEvent(context.payload)));
    app.on('pull_request.synchronize', (context) =>
      forward(context, deps, () => pushedEvent(context.payload, deps.appSlug)),
    );
  };
}

/** Hands a pull request event to the queue with the repository it concerns. */
function forward(
  context: Context & { payload: TargetPayload },
  deps: AppDeps,
  map: () => PullRequestEvent | null,
): Promise<void> {
  return guarded(context, deps, async (log) => {
    const event = map();
    if (!event) return;
    const target = targetFromPayload(context.payload);
    if (!target) {
      log.info(`${context.name} ignored: no installation in the payload`);
      return;
    }
    try {
      await deps.queue.enqueueEvent(target, event);
    } catch (error) {
      throw new IntakeUnavailableError('The event could not be queued; redeliver this webhook.', { cause: error });
    }
  });
}

async function guarded(context: Context, deps: AppDeps, handle: (log: IntakeLog) => Promise<void>): Promise<void> {
  const log = deps.log ?? context.log;
  try {
    await handle(log);
  } catch (error) {
    if (error instanceof IntakeUnavailableError) {
      log.error({ err: error.cause ?? error }, 'command not stored; answering 503');
      throw error;
    }
    log.error({ err: error }, `${context.name} handler failed`);
  }
}
