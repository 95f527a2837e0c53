import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import {
  botCommentsOn,
  checksOn,
  ciFinished,
  fixApp,
  headOf,
  pulls,
  review,
  until,
  write,
} from '../support/app-fix-steps.js';
import { tempDir } from '../support/temp-dir.js';
import { example } from '../support/webhook-examples.js';

const exec = promisify(execFile);
let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof fixApp>) {
  const started = await fixApp(...args);
  harness = started.h;
  return started;
}

describe('fix attempts in the GitHub App: runs that already ended', () => {
  it('a red CI check on a PR of a cancelled run starts no agent: neither a fix nor the cancelled ones', async () => {
    const { h, brain } = await start({
      agents: {
        'First part': write('one.txt', 'one\n', 'Wrote one.txt.'),
        // The second agent is slow, so `/orchestrate cancel` catches it mid-run.
        'Second part': write('two.txt', 'two\n', 'Wrote two.txt.', { delayMs: 4_000 }),
      },
      fixes: { 'First part': write('one.txt', 'ONE\n', 'Upper-cased.') },
    });
    await h.comment('/orchestrate Write two files');
    const [runId] = await (async () => {
      await until('the run', async () => (await h.app.store.listRuns()).length === 1);
      return (await h.app.store.listRuns()).map((run) => run.id);
    })();
    await until(
      'PR one open and validated',
      async () => (await h.app.store.getSubtask(runId!, 'one'))?.state === 'succeeded',
    );
    await h.comment('/orchestrate cancel');
    await h.settle();
    expect((await h.app.store.getRun(runId!))?.state).toBe('cancelled');
    expect((await h.app.store.getSubtask(runId!, 'two'))?.state).toBe('cancelled');
    const secondAgentCalls = brain.requestsFor('Second part');

    // Repository CI goes red on PR one after the run was cancelled (fixOnRedCheck defaults on).
    const [first] = pulls(h);
    await ciFinished(h, first!, await headOf(h, first!.head), 'failure');

    expect((await h.app.store.getRun(runId!))?.state).not.toBe('running');
    expect(brain.requestsFor('Second part'), 'the cancelled agent was started again').toBe(secondAgentCalls);
    expect(pulls(h).length, 'a PR for the cancelled subtask was opened').toBe(1);
  }, 60_000);

  it('after "needs a person" ends the run, a person\'s push is validated, as the comment promises', async () => {
    const config = 'validate:\n  - node check.cjs\nmaxFixAttempts: 1\n';
    // Green on the base; red once one.txt exists without ok.txt.
    const files = {
      'check.cjs':
        "const fs = require('fs');\nprocess.exit(fs.existsSync('one.txt') && !fs.existsSync('ok.txt') ? 1 : 0);\n",
    };
    const { h } = await start(
      {
        plan: [{ id: 'one', title: 'First part', writeScope: ['one.txt', 'ok.txt'] }],
        agents: { 'First part': write('one.txt', 'one\n', 'Wrote one.txt.') },
        fixes: { 'First part': write('one.txt', 'ONE\n', 'Tried.') },
      },
      config,
      files,
    );
    await h.comment('/orchestrate Write a file');
    await h.settle();
    const runId = (await h.app.store.listRuns())[0]!.id;
    const run = await h.app.store.getRun(runId);
    const record = await h.app.store.getSubtask(runId, 'one');
    expect(run?.state).toBe('failed');
    expect(record?.needsHuman).toBeDefined();
    const [pull] = pulls(h);
    const comments = botCommentsOn(h, pull!.number);
    expect(
      comments.some((body) =>
        body.includes('Push a fix to this branch yourself: Fanout validates it again and merges it when it is green'),
      ),
    ).toBe(true);

    // A person does exactly that.
    const checkout = join(await tempDir('fanout-person-'), 'checkout');
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', ...args], { cwd: checkout })
      ).stdout.trim();
    await exec('git', ['clone', '-q', '--branch', pull!.head, h.fake.repo(OWNER, REPO).dir, checkout]);
    const before = await git('rev-parse', 'HEAD');
    await writeFile(join(checkout, 'ok.txt'), 'ok\n');
    await git('add', 'ok.txt');
    await git('commit', '-qm', 'Add ok.txt');
    await git('push', '-q', 'origin', `HEAD:${pull!.head}`);
    const pushed = await git('rev-parse', 'HEAD');
    const payload = example('pull_request', (candidate) => candidate.action === 'synchronize') as unknown as Record<
      string,
      unknown
    >;
    const person = { ...(payload.sender as Record<string, unknown>), login: 'maintainer', type: 'User' };
    const pullRequest = {
      ...(payload.pull_request as Record<string, unknown>),
      number: pull!.number,
      head: { ...(payload.pull_request as { head: object }).head, ref: pull!.head, sha: pushed },
    };
    await h.deliver('pull_request', {
      ...payload,
      number: pull!.number,
      after: pushed,
      before,
      pull_request: pullRequest,
      sender: person,
    });
    await h.settle();
    expect(checksOn(h, pushed), "Fanout validated the person's push").toEqual(
      expect.arrayContaining([['fanout/validate', 'success']]),
    );
    expect(h.fake.repo(OWNER, REPO).pulls.get(pull!.number)!.merged, 'and merged it').toBe(true);
    expect((await h.app.store.getRun(runId))?.state).toBe('succeeded');
  }, 60_000);

  it('a run that ended partial is reopened by a review; after the fix merges it ends succeeded', async () => {
    const config = 'validate:\n  - node check.cjs\nfixOnRedCheck: false\n';
    const files = {
      'check.cjs':
        "const fs = require('fs');\nprocess.exit(fs.existsSync('one.txt') && !fs.existsSync('ok.txt') ? 1 : 0);\n",
    };
    const { h } = await start(
      {
        plan: [
          { id: 'one', title: 'First part', writeScope: ['one.txt', 'ok.txt'] },
          { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
        ],
        agents: {
          'First part': write('one.txt', 'one\n', 'Wrote one.txt.'),
          'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
        },
        fixes: { 'First part': write('ok.txt', 'ok\n', 'Added ok.txt.') },
      },
      config,
      files,
    );
    await h.comment('/orchestrate Write two files');
    await h.settle();
    const runId = (await h.app.store.listRuns())[0]!.id;
    expect((await h.app.store.getRun(runId))?.state).toBe('partial');
    const [first] = pulls(h);
    await review(h, first!, 'maintainer', 'CHANGES_REQUESTED', [], 'Make validation pass.');
    await review(h, first!, 'maintainer', 'APPROVED');
    const run = await h.app.store.getRun(runId);
    expect(h.fake.repo(OWNER, REPO).pulls.get(first!.number)!.merged).toBe(true);
    expect(run?.state).toBe('succeeded');
  }, 60_000);
});
