import type { IssueCommentCreatedEvent } from '@octokit/webhooks-types';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import type { IntakeQueue } from '../../src/app/app-deps.js';
import { createApp } from '../../src/app/create-app.js';
import type { GitHubTarget, PullRequestEvent } from '../../src/domain/command.js';
import type { CoordStore } from '../../src/ports/coord-store.js';
import { tempDir } from '../support/temp-dir.js';
import { example } from '../support/webhook-examples.js';
import { startWebhookServer, type WebhookServer } from '../support/webhook-client.js';

const APP_ID = 4242;
const APP_SLUG = 'fanout-test';
const TARGET: GitHubTarget = {
  owner: 'Codertocat',
  repo: 'Hello-World',
  installationId: 1,
  cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
  htmlUrl: 'https://github.com/Codertocat/Hello-World',
  defaultBranch: 'master',
};
const COMMENT_ID = 492700400;

/** A queue that only remembers what it was given (and can be told to fail). */
function recordingQueue(): IntakeQueue & {
  commands: string[];
  events: Array<[GitHubTarget, PullRequestEvent]>;
  failing: boolean;
} {
  const queue = {
    commands: [] as string[],
    events: [] as Array<[GitHubTarget, PullRequestEvent]>,
    failing: false,
    enqueueCommand(id: string) {
      if (queue.failing) throw new Error('queue full');
      queue.commands.push(id);
    },
    enqueueEvent(target: GitHubTarget, event: PullRequestEvent) {
      if (queue.failing) throw new Error('queue full');
      queue.events.push([target, event]);
    },
  };
  return queue;
}

/** GitHub's own `issue_comment.created` example with another body (and whatever `patch` changes). */
function commentPayload(
  body: string,
  patch: (payload: IssueCommentCreatedEvent) => void = () => undefined,
): IssueCommentCreatedEvent {
  const payload = example('issue_comment', (candidate) => candidate.action === 'created') as IssueCommentCreatedEvent;
  payload.comment.body = body;
  patch(payload);
  return payload;
}

let apiCalls: string[];
let server: WebhookServer | undefined;

beforeEach(() => {
  // The intake must answer without GitHub: every request to the API is recorded, and fails.
  apiCalls = [];
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const github = nock('https://api.github.com').persist();
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
    github.intercept(/.*/, method).reply(500, function record() {
      apiCalls.push(`${this.req.method} ${this.req.path}`);
      return { message: 'no API calls at intake' };
    });
  }
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  nock.cleanAll();
  nock.enableNetConnect();
  expect(apiCalls).toEqual([]);
});

async function start(store: CoordStore, queue: IntakeQueue): Promise<WebhookServer> {
  server = await startWebhookServer(createApp({ store, queue, appId: APP_ID, appSlug: APP_SLUG }), APP_ID);
  return server;
}

describe('App intake: commands on issues', () => {
  it('stores the command durably before answering, then queues it', async () => {
    const root = await tempDir();
    const queue = recordingQueue();
    const app = await start(new FileCoordStore(root), queue);

    const answer = await app.deliver(
      'issue_comment',
      commentPayload('Thanks!\n/orchestrate Add a usage section\nto the README'),
    );

    expect(answer.status).toBe(200);
    // A second store on the same directory reads what a restarted process would find.
    expect(await new FileCoordStore(root).getCommand(answer.id)).toMatchObject({
      id: answer.id,
      target: TARGET,
      issue: 1,
      commentId: COMMENT_ID,
      sender: 'Codertocat',
      command: { kind: 'orchestrate', task: 'Add a usage section\nto the README' },
      state: 'received',
    });
    expect(queue.commands).toEqual([answer.id]);
  });

  it('stores and queues a redelivery, or the same comment under a new delivery id, once', async () => {
    const store = new FileCoordStore(await tempDir());
    const queue = recordingQueue();
    const app = await start(store, queue);
    const payload = commentPayload('/orchestrate status');

    const first = await app.deliver('issue_comment', payload);
    const redelivery = await app.deliver('issue_comment', payload, { id: first.id });
    const sameComment = await app.deliver('issue_comment', payload);

    expect([first.status, redelivery.status, sameComment.status]).toEqual([200, 200, 200]);
    expect((await store.listCommands()).map((command) => command.id)).toEqual([first.id]);
    expect(queue.commands).toEqual([first.id]);
  });

  it('stores one command when the same comment arrives 10 times at once', async () => {
    const store = new FileCoordStore(await tempDir());
    const queue = recordingQueue();
    const app = await start(store, queue);
    const payload = commentPayload('/orchestrate Fix the flaky test');

    const answers = await Promise.all(Array.from({ length: 10 }, () => app.deliver('issue_comment', payload)));

    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(await store.listCommands()).toHaveLength(1);
    expect(queue.commands).toHaveLength(1);
  });

  it.each([
    [
      'a bot',
      (payload: IssueCommentCreatedEvent) =>
        Object.assign(payload.comment.user, { type: 'Bot', login: 'dependabot[bot]' }),
    ],
    [
      'a bot sender',
      (payload: IssueCommentCreatedEvent) => Object.assign(payload.sender, { type: 'Bot', login: 'renovate[bot]' }),
    ],
    [
      "Fanout's own comment",
      (payload: IssueCommentCreatedEvent) =>
        Object.assign(payload.comment, { performed_via_github_app: { id: APP_ID, slug: APP_SLUG, name: 'Fanout' } }),
    ],
    [
      'a comment on a pull request',
      (payload: IssueCommentCreatedEvent) =>
        Object.assign(payload.issue, { pull_request: { url: 'u', html_url: 'h', diff_url: 'd', patch_url: 'p' } }),
    ],
    ['a delivery without an installation', (payload: IssueCommentCreatedEvent) => delete payload.installation],
  ])('ignores a command in %s', async (_name, patch) => {
    const store = new MemoryCoordStore();
    const queue = recordingQueue();
    const app = await start(store, queue);

    const answer = await app.deliver('issue_comment', commentPayload('/orchestrate Delete everything', patch));

    expect(answer.status).toBe(200);
    expect(await store.listCommands()).toEqual([]);
    expect(queue.commands).toEqual([]);
  });

  it.each([
    ['quoted', '> /orchestrate Delete everything\n\nNo thanks.'],
    ['in a fenced block', 'Type this:\n```\n/orchestrate Delete everything\n```'],
    ['in a tilde fence', '~~~\n/orchestrate Delete everything\n~~~'],
    ['mid-line', 'Try /orchestrate Delete everything'],
  ])('ignores a command %s', async (_name, body) => {
    const store = new MemoryCoordStore();
    const queue = recordingQueue();
    const app = await start(store, queue);

    expect((await app.deliver('issue_comment', commentPayload(body))).status).toBe(200);
    expect(await store.listCommands()).toEqual([]);
    expect(queue.commands).toEqual([]);
  });

  it('answers a bad signature 400 and stores nothing', async () => {
    const store = new MemoryCoordStore();
    const queue = recordingQueue();
    const app = await start(store, queue);

    const answer = await app.deliver('issue_comment', commentPayload('/orchestrate Add tests'), {
      secret: 'not-the-secret',
    });

    expect(answer.status).toBe(400);
    expect(await store.listCommands()).toEqual([]);
    expect(queue.commands).toEqual([]);
  });

  it('answers 503 and queues nothing while storage is down, and takes the redelivery once it is back', async () => {
    const memory = new MemoryCoordStore();
    let down = true;
    const store: CoordStore = Object.assign(Object.create(memory) as CoordStore, {
      recordCommand: (command: Parameters<CoordStore['recordCommand']>[0]) =>
        down ? Promise.reject(new Error('EIO: disk gone')) : memory.recordCommand(command),
    });
    const queue = recordingQueue();
    const app = await start(store, queue);
    const payload = commentPayload('/orchestrate Add tests');

    const failed = await app.deliver('issue_comment', payload);
    expect(failed.status).toBe(503);
    expect(queue.commands).toEqual([]);

    down = false;
    const redelivered = await app.deliver('issue_comment', payload, { id: failed.id });
    expect(redelivered.status).toBe(200);
    expect((await memory.listCommands()).map((command) => command.id)).toEqual([failed.id]);
    expect(queue.commands).toEqual([failed.id]);
  });

  it('keeps a stored command and answers 200 when the queue throws', async () => {
    const store = new MemoryCoordStore();
    const queue = recordingQueue();
    queue.failing = true;
    const app = await start(store, queue);

    const answer = await app.deliver('issue_comment', commentPayload('/orchestrate Add tests'));

    expect(answer.status).toBe(200);
    expect((await store.getCommand(answer.id))?.state).toBe('received');
  });
});

describe('App intake: pull request events', () => {
  async function deliverEvent(event: string, payload: object): Promise<Array<[GitHubTarget, PullRequestEvent]>> {
    const queue = recordingQueue();
    const app = await start(new MemoryCoordStore(), queue);
    const answer = await app.deliver(event, payload);
    expect(answer.status).toBe(200);
    await server?.close();
    server = undefined;
    return queue.events;
  }

  it('maps a review on a Fanout branch, with its lowercase state', async () => {
    const payload = example('pull_request_review', (candidate) => candidate.action === 'submitted');
    payload.pull_request.head.ref = 'fanout/run-1/api';
    Object.assign(payload.review, { state: 'approved' });
    expect(await deliverEvent('pull_request_review', payload)).toEqual([
      [
        TARGET,
        {
          kind: 'review',
          prNumber: 2,
          state: 'approved',
          reviewer: 'Codertocat',
          reviewId: payload.review.id,
          reviewerIsBot: false,
        },
      ],
    ]);
  });

  it('ignores pull request events on branches that are not Fanout’s', async () => {
    const review = example('pull_request_review', (candidate) => candidate.action === 'submitted');
    const closed = example('pull_request', (candidate) => candidate.action === 'closed');
    const pushed = example('pull_request', (candidate) => candidate.action === 'synchronize');
    expect(await deliverEvent('pull_request_review', review)).toEqual([]);
    expect(await deliverEvent('pull_request', closed)).toEqual([]);
    expect(await deliverEvent('pull_request', pushed)).toEqual([]);
  });

  it('passes finished check runs and suites, and statuses, for any head', async () => {
    const run = example('check_run', (candidate) => candidate.action === 'completed');
    const suite = example(
      'check_suite',
      (candidate) => candidate.action === 'completed' && candidate.check_suite.pull_requests.length > 0,
    );
    const status = example('status');
    const head = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
    // GitHub's examples: a check run that failed, a suite that passed, a status that passed.
    expect(await deliverEvent('check_run', run)).toEqual([
      [TARGET, { kind: 'checks-completed', headSha: head, prNumbers: [2], failed: true }],
    ]);
    expect(await deliverEvent('check_suite', suite)).toEqual([
      [TARGET, { kind: 'checks-completed', headSha: head, prNumbers: [2], failed: false }],
    ]);
    expect(await deliverEvent('status', status)).toEqual([
      [TARGET, { kind: 'status', headSha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', failed: false }],
    ]);
    Object.assign(status, { state: 'error' });
    expect(await deliverEvent('status', status)).toEqual([
      [TARGET, { kind: 'status', headSha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', failed: true }],
    ]);
  });

  it('maps a Fanout pull request closed by a merge and one closed without', async () => {
    const closed = example('pull_request', (candidate) => candidate.action === 'closed');
    closed.pull_request.head.ref = 'fanout/run-1/api';
    expect(await deliverEvent('pull_request', closed)).toEqual([
      [TARGET, { kind: 'closed', prNumber: closed.number, merged: false }],
    ]);
    Object.assign(closed.pull_request, { merged: true, merged_at: '2026-01-01T00:00:00Z', merged_by: closed.sender });
    expect(await deliverEvent('pull_request', closed)).toEqual([
      [TARGET, { kind: 'closed', prNumber: closed.number, merged: true }],
    ]);
  });

  it("maps a push to a Fanout branch, telling a person's push from the App's own", async () => {
    const pushed = example('pull_request', (candidate) => candidate.action === 'synchronize');
    pushed.pull_request.head.ref = 'fanout/run-1/api';
    const after = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
    expect(await deliverEvent('pull_request', pushed)).toEqual([
      [
        TARGET,
        { kind: 'pushed', prNumber: pushed.number, headSha: after, pusher: 'Codertocat', pusherIsFanout: false },
      ],
    ]);
    Object.assign(pushed.sender, { login: `${APP_SLUG}[bot]`, type: 'Bot' });
    expect(await deliverEvent('pull_request', pushed)).toEqual([
      [
        TARGET,
        { kind: 'pushed', prNumber: pushed.number, headSha: after, pusher: `${APP_SLUG}[bot]`, pusherIsFanout: true },
      ],
    ]);
    // Another App's bot is a person as far as re-validation goes.
    Object.assign(pushed.sender, { login: 'renovate[bot]', type: 'Bot' });
    expect((await deliverEvent('pull_request', pushed))[0]?.[1]).toMatchObject({ pusherIsFanout: false });
  });

  it('ignores an event without an installation, and answers 503 when the event cannot be queued (GitHub sends it again)', async () => {
    const status = example('status');
    delete status.installation;
    expect(await deliverEvent('status', status)).toEqual([]);

    const queue = recordingQueue();
    queue.failing = true;
    const app = await start(new MemoryCoordStore(), queue);
    expect((await app.deliver('status', example('status'))).status).toBe(503);
  });
});

describe('App intake: errors stay inside', () => {
  it('answers 200, not 500, to a payload missing what the mapping reads', async () => {
    const queue = recordingQueue();
    const app = await start(new MemoryCoordStore(), queue);
    const run = example('check_run', (candidate) => candidate.action === 'completed');
    delete (run.check_run as { pull_requests?: unknown }).pull_requests;

    expect((await app.deliver('check_run', run)).status).toBe(200);
    expect(queue.events).toEqual([]);
  });
});

describe('the no-API-call guard', () => {
  it('sees a handler that calls GitHub', async () => {
    const app = await startWebhookServer((probot) => {
      probot.on('status', async (context) => {
        await context.octokit.rest.issues
          .createComment({ owner: 'Codertocat', repo: 'Hello-World', issue_number: 1, body: 'hi' })
          .catch(() => undefined);
      });
    }, APP_ID);
    server = app;
    await app.deliver('status', example('status'));
    expect(apiCalls).toEqual(['POST /app/installations/1/access_tokens']);
    apiCalls = [];
  });
});
