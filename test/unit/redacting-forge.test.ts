import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { redactingForge } from '../../src/adapters/forge/redacting-forge.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { SecretRedactor } from '../../src/domain/redactor.js';
import type { Forge } from '../../src/ports/forge.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const SECRET = 'webhook-secret-7d1e0b2a';

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await exec('git', ['-c', 'user.name=u', '-c', 'user.email=u@u', ...args], { cwd })).stdout.trim();
}

/** A sample repository with one empty commit on `branch`, and a LocalForge over it. */
async function localRepo(branch: string) {
  const root = await tempDir();
  const repo = join(root, 'repo');
  const stateDir = join(root, 'state');
  await createRepository(repo);
  const base = await git(repo, 'rev-parse', 'main');
  const tree = await git(repo, 'rev-parse', 'main^{tree}');
  const head = await git(repo, 'commit-tree', tree, '-p', base, '-m', 'change');
  await git(repo, 'update-ref', `refs/heads/${branch}`, head);
  return { repo, stateDir, head, local: new LocalForge(repo, stateDir) };
}

/** Every file the local forge wrote, as one text. */
async function forgeRecords(stateDir: string): Promise<string> {
  const root = join(stateDir, 'local-forge');
  const texts: string[] = [];
  for (const key of await readdir(root)) {
    for (const name of await readdir(join(root, key)))
      if (name.endsWith('.json')) texts.push(await readFile(join(root, key, name), 'utf8'));
  }
  return texts.join('\n');
}

describe('redactingForge over LocalForge', () => {
  it('posts PR text, checks, comments and the merge title with secrets redacted', async () => {
    const { repo, stateDir, head, local } = await localRepo('fanout/r/a');
    const forge = redactingForge(local, new SecretRedactor([SECRET]));

    const pr = await forge.openPullRequest({
      runId: 'r',
      subtaskId: 'a',
      title: `Add ${SECRET}`,
      body: `The agent printed ${SECRET} while testing.`,
      branch: 'fanout/r/a',
      base: 'main',
      headSha: head,
    });
    const checkId = await forge.startCheck({ name: 'fanout/validate', headSha: head, title: `running ${SECRET}` });
    await forge.completeCheck(checkId, {
      conclusion: 'success',
      title: `ok ${SECRET}`,
      summary: `ran with ${SECRET}`,
      text: `env: ${SECRET}`,
    });
    const commentId = await forge.createComment(pr.number, `first ${SECRET}`);
    await forge.updateComment(commentId, `green, key ${SECRET}`);
    const merged = await forge.merge(pr.number, { expectedHeadSha: head, title: `Add ${SECRET}` });

    expect(merged.kind).toBe('merged');
    expect(await forge.getPullRequest(pr.number)).toMatchObject({ number: pr.number, state: 'merged' });
    const records = await forgeRecords(stateDir);
    expect(records).not.toContain(SECRET);
    for (const text of [
      'Add [redacted]',
      'The agent printed [redacted] while testing.',
      'ok [redacted]',
      'ran with [redacted]',
      'env: [redacted]',
      'green, key [redacted]',
    ]) {
      expect(records).toContain(text);
    }
    expect(await git(repo, 'log', '-1', '--format=%B', 'main')).toContain('Add [redacted]');
  });

  it('passes addresses and reads through unchanged', async () => {
    const root = await tempDir();
    const repo = join(root, 'repo');
    await createRepository(repo);
    const base = await git(repo, 'rev-parse', 'main');
    const tree = await git(repo, 'rev-parse', 'main^{tree}');
    const first = await git(repo, 'commit-tree', tree, '-p', base, '-m', 'one');
    const second = await git(repo, 'commit-tree', tree, '-p', first, '-m', 'two');
    await git(repo, 'update-ref', 'refs/heads/fanout/r/b', first);
    // Told that the branch name is secret, the forge still opens the PR on that branch: a redacted
    // address would point somewhere else.
    const forge = redactingForge(new LocalForge(repo, join(root, 'state')), new SecretRedactor(['fanout/r/b']));
    const pr = await forge.openPullRequest({
      runId: 'r',
      subtaskId: 'b',
      title: 'b',
      body: '',
      branch: 'fanout/r/b',
      base: 'main',
      headSha: first,
    });
    await forge.pushBranch('fanout/r/b', second, first);
    expect(await forge.getPullRequest(pr.number)).toMatchObject({
      branch: 'fanout/r/b',
      headSha: second,
      state: 'open',
    });
    expect(await git(repo, 'rev-parse', 'fanout/r/b')).toBe(second);
  });

  it('redacts review replies; labels, reviewers, review feedback and check failures pass through', async () => {
    const { head, local } = await localRepo('fanout/r/c');
    // The label is told as a secret too: a label is a name Fanout chose, and it must land as asked.
    const forge = redactingForge(local, new SecretRedactor([SECRET, 'needs human']));
    const pr = await forge.openPullRequest({
      runId: 'r',
      subtaskId: 'c',
      title: 'c',
      body: '',
      branch: 'fanout/r/c',
      base: 'main',
      headSha: head,
    });
    const reviewId = await local.recordReview(pr.number, {
      by: 'maintainer',
      state: 'changes_requested',
      body: `Do not print ${SECRET}`,
      comments: [{ path: 'README.md', line: 1, body: `here: ${SECRET}` }],
    });
    const feedback = await forge.reviewFeedback(pr.number, reviewId);
    expect(feedback).toMatchObject({ body: `Do not print ${SECRET}`, comments: [{ body: `here: ${SECRET}` }] });

    await forge.replyToReviewComment(pr.number, feedback.comments[0]!.id, `Removed ${SECRET} from the output.`);
    await forge.addLabel(pr.number, 'fanout: needs human');
    await forge.requestReview(pr.number, ['maintainer']);
    const checkId = await local.startCheck({ name: 'ci/tests', headSha: head, title: 'Tests' });
    await local.completeCheck(checkId, {
      conclusion: 'failure',
      title: 'Failed',
      summary: `token ${SECRET}`,
      text: `printed ${SECRET}`,
    });

    expect((await local.comments(pr.number)).map((comment) => comment.body)).toEqual([
      'Removed [redacted] from the output.',
    ]);
    expect(await local.labels(pr.number)).toEqual(['fanout: needs human']);
    expect(await local.requestedReviewers(pr.number)).toEqual(['maintainer']);
    // Reads are what the forge holds: the agent needs the reviewer's words and the log as they are.
    expect(await forge.checkFailures(head)).toEqual([
      { name: 'ci/tests', summary: `Failed\n\ntoken ${SECRET}`, annotations: [], logTail: `printed ${SECRET}` },
    ]);
  });

  it("redacts the reason of a refused merge, which may quote a push error's URL", async () => {
    const root = await tempDir();
    const local = new LocalForge(join(root, 'repo'), join(root, 'state'));
    const token = 'v1.installation0123456789abcdef';
    const refusing: Forge = {
      pushBranch: (branch, sha, expectedSha) => local.pushBranch(branch, sha, expectedSha),
      openPullRequest: (request) => local.openPullRequest(request),
      getPullRequest: (number) => local.getPullRequest(number),
      fetchBase: (base) => local.fetchBase(base),
      startCheck: (request) => local.startCheck(request),
      completeCheck: (checkId, result) => local.completeCheck(checkId, result),
      readiness: (number) => local.readiness(number),
      userPermission: () => local.userPermission(),
      acknowledge: () => local.acknowledge(),
      createComment: (on, body) => local.createComment(on, body),
      updateComment: (id, body) => local.updateComment(id, body),
      reviewFeedback: (number, reviewId) => local.reviewFeedback(number, reviewId),
      replyToReviewComment: (number, commentId, body) => local.replyToReviewComment(number, commentId, body),
      requestReview: (number, reviewers) => local.requestReview(number, reviewers),
      addLabel: (number, label) => local.addLabel(number, label),
      checkFailures: (headSha) => local.checkFailures(headSha),
      merge: async () => refusal,
      mergeSeries: async (requests) => requests.map(() => refusal),
    };
    const refusal = {
      kind: 'refused',
      reason: 'not-mergeable',
      message: `push to https://x-access-token:${token}@github.com/o/r failed`,
    } as const;
    const redactor = new SecretRedactor();
    redactor.add(token);
    const forge = redactingForge(refusing, redactor);
    const redacted = {
      kind: 'refused',
      reason: 'not-mergeable',
      message: 'push to https://x-access-token:[redacted]@github.com/o/r failed',
    };
    expect(await forge.merge(1, { expectedHeadSha: 'a'.repeat(40), title: 't' })).toEqual(redacted);
    expect(await forge.mergeSeries([{ number: 1, expectedHeadSha: 'a'.repeat(40), title: 't' }])).toEqual([redacted]);
  });
});
