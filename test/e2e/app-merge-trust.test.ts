import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import {
  botCommentsOn,
  ciFinished,
  fileOn,
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
const ONE = [{ id: 'one', title: 'First part', writeScope: ['one.txt'] }];
const AGENTS = {
  'First part': write('one.txt', 'one\n', 'Wrote one.'),
  'Second part': write('two.txt', 'two\n', 'Wrote two.'),
};

let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** The App on a repository with `config`, planning `plan`, with `/orchestrate` done and settled. */
async function orchestrated(config: string, plan?: typeof ONE, before?: (h: AppHarness) => void): Promise<AppHarness> {
  const { h } = await fixApp({ agents: AGENTS, ...(plan ? { plan } : {}) }, config);
  harness = h;
  before?.(h);
  await h.comment('/orchestrate Write the files');
  await h.settle();
  return h;
}

/** A person (not Fanout) pushes `files` to a PR's branch; its `synchronize` webhook arrives and Fanout has acted. */
async function personPushes(h: AppHarness, pull: { number: number; head: string }, files: Record<string, string>) {
  const checkout = join(await tempDir('fanout-person-'), 'checkout');
  const git = async (...args: string[]) =>
    (
      await exec('git', ['-c', 'user.name=Pat', '-c', 'user.email=pat@example.com', ...args], { cwd: checkout })
    ).stdout.trim();
  await exec('git', ['clone', '-q', '--branch', pull.head, h.fake.repo(OWNER, REPO).dir, checkout]);
  const before = await git('rev-parse', 'HEAD');
  for (const [path, content] of Object.entries(files)) await writeFile(join(checkout, path), content);
  await git('commit', '-qam', 'A change nobody reviewed');
  await git('push', '-q', 'origin', `HEAD:${pull.head}`);
  const after = await git('rev-parse', 'HEAD');
  const payload = example('pull_request', (candidate) => candidate.action === 'synchronize') as unknown as Record<
    string,
    unknown
  >;
  const person = { ...(payload.sender as Record<string, unknown>), login: 'pat', type: 'User' };
  await h.deliver('pull_request', {
    ...payload,
    number: pull.number,
    before,
    after,
    pull_request: {
      ...(payload.pull_request as Record<string, unknown>),
      number: pull.number,
      head: { ...(payload.pull_request as { head: object }).head, ref: pull.head, sha: after },
    },
    sender: person,
  });
  await h.settle();
  return after;
}

describe('the GitHub App: an approval counts for the head it was given on', () => {
  it("holds a PR whose head moved after its approval (a person's in-scope push), says so, and merges once approved again", async () => {
    const h = await orchestrated('validate: []\napproval: manual\n');
    const [a, b] = pulls(h);
    const approvedHead = await headOf(h, b!.head);
    await review(h, b!, 'maintainer', 'APPROVED');
    expect(pulls(h).map((pull) => pull.merged)).toEqual([false, false]);
    // Another writer pushes to B's branch, within its scope: checked green (nothing to validate), approved by nobody.
    const pushed = await personPushes(h, b!, { 'two.txt': 'two, changed by pat\n' });
    expect(
      h.fake
        .repo(OWNER, REPO)
        .checkRuns.filter((run) => run.headSha === pushed)
        .map((run) => [run.name, run.conclusion]),
    ).toEqual(
      expect.arrayContaining([
        ['fanout/scope', 'success'],
        ['fanout/validate', 'neutral'],
      ]),
    );

    await review(h, a!, 'maintainer', 'APPROVED');
    expect(pulls(h).map((pull) => pull.merged)).toEqual([true, false]);
    expect(await fileOn(h, 'main', 'two.txt')).toBeNull();
    const stale = `approval is for an older head ${approvedHead.slice(0, 7)}; a new approval is needed`;
    expect(h.issueComments()[0]).toMatch(new RegExp(`\\| 2 \\| \`two\` Second part \\| builtin \\| waiting: ${stale}`));
    expect(botCommentsOn(h, b!.number)).toEqual([
      expect.stringContaining(`Fanout holds this pull request: the ${stale}`),
    ]);

    await review(h, b!, 'maintainer', 'APPROVED');
    expect(pulls(h).map((pull) => pull.merged)).toEqual([true, true]);
    expect(await fileOn(h, 'main', 'two.txt')).toBe('two, changed by pat\n');
    // Said once, not on every look.
    expect(botCommentsOn(h, b!.number)).toHaveLength(1);
  });
});

describe("the GitHub App: the repository's CI is waited for", () => {
  it('holds the merge for a check branch protection requires until it reports, then merges once it is green', async () => {
    const h = await orchestrated('validate: []\n', ONE, (app) =>
      app.fake.protectBranch(OWNER, REPO, 'main', { requiredChecks: ['ci/tests'] }),
    );
    const [pull] = pulls(h);
    expect(pull!.merged).toBe(false);
    expect(h.issueComments()[0]).toContain('waiting: waiting for ci/tests (required by branch protection)');
    expect(botCommentsOn(h, pull!.number)).toEqual([]);
    await ciFinished(h, pull!, await headOf(h, pull!.head), 'success');
    expect(pulls(h)[0]!.merged).toBe(true);
  });

  it('keeps a PR GitHub refused (405) for a rule Fanout could not read in the queue, and merges it on the next event', async () => {
    // Classic protection's required reviews: "Get a branch" does not show them to the App.
    const h = await orchestrated('validate: []\n', ONE, (app) =>
      app.fake.protectBranch(OWNER, REPO, 'main', { requiredApprovals: 1 }),
    );
    const [pull] = pulls(h);
    expect(pull!.merged).toBe(false);
    expect(h.issueComments()[0]).toContain(
      'waiting: GitHub: At least 1 approving review is required by reviewers with write access; Fanout tries the merge again on the next event',
    );
    expect(botCommentsOn(h, pull!.number)).toEqual([]);
    await review(h, pull!, 'maintainer', 'APPROVED');
    expect(pulls(h)[0]!.merged).toBe(true);
    expect(h.issueComments()[0]).toContain('✅ Done: everything merged');
  });

  it('without protection, waits for CI that appears within the grace period and merges once it is green', async () => {
    const h = await orchestrated('validate: []\nwaitForChecksSeconds: 600\n', ONE);
    const [pull] = pulls(h);
    expect(pull!.merged).toBe(false);
    expect(h.issueComments()[0]).toContain("waiting: waiting for the repository's CI to report (up to 600 s)");
    const head = await headOf(h, pull!.head);
    // CI starts: its suite, then a run in progress; then it reports.
    h.fake.addCheckSuite(OWNER, REPO, { headSha: head, appSlug: 'github-actions', appId: 15368 });
    h.fake.addCheckRun(OWNER, REPO, {
      name: 'ci/tests',
      headSha: head,
      status: 'in_progress',
      appSlug: 'github-actions',
    });
    await ciFinished(h, pull!, head, 'success');
    expect(pulls(h)[0]!.merged).toBe(true);
  });

  it('without protection and with no CI appearing, merges when the grace period ends, with no other webhook', async () => {
    const h = await orchestrated('validate: []\nwaitForChecksSeconds: 2\n', ONE);
    // Nothing is delivered after the command: the merge queue looks again by itself.
    await until('the PR merged after the grace period', () => pulls(h)[0]!.merged);
    const merged = pulls(h)[0]!;
    const firstCheck = Math.min(
      ...h.fake
        .repo(OWNER, REPO)
        .checkRuns.filter((run) => run.headSha === merged.lastHeadSha)
        .map((run) => Date.parse(run.startedAt)),
    );
    expect(Date.parse(merged.mergedAt!) - firstCheck).toBeGreaterThanOrEqual(2_000);
    await until('the status comment says done', () => h.issueComments()[0]!.includes('✅ Done: everything merged'));
  });
});
