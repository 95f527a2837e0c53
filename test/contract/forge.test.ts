import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { OWNER, REPO, gitHubForgeSetup } from '../support/fake-github/forge-setup.js';
import { commitFiles } from '../support/fake-github/git.js';
import { tempDir } from '../support/temp-dir.js';
import { forgeContract } from './forge.contract.js';

forgeContract('local', async () => {
  const root = await tempDir('fanout-forge-');
  const repoDir = join(root, 'repo');
  await createRepository(repoDir, { 'README.md': '# hello\n' });
  const forge = new LocalForge(repoDir, join(root, 'state'));
  return {
    forge,
    repoDir,
    base: 'main',
    async reviewAsWriter(number, state) {
      await forge.recordReview(number, { by: 'local-user', state });
      return 'local-user';
    },
    // Local mode has one user, who owns the repository.
    approveAsReader: null,
    async commentBody(issue, id) {
      return (await forge.comments(issue)).find((comment) => comment.id === id)?.body ?? '';
    },
    reviewWithComments: (number, review) => forge.recordReview(number, { by: 'local-user', ...review }),
    async replies(number) {
      return (await forge.comments(number)).flatMap((comment) =>
        comment.inReplyTo !== undefined ? [{ inReplyTo: comment.inReplyTo, body: comment.body }] : [],
      );
    },
    labels: (number) => forge.labels(number),
    requestedReviewers: (number) => forge.requestedReviewers(number),
    async failCheck(headSha, { name, ...output }) {
      // Local mode has no CI of its own: a check run published through the forge stands in for it.
      await forge.completeCheck(await forge.startCheck({ name, headSha, title: output.title }), {
        conclusion: 'failure',
        ...output,
      });
    },
    async close() {},
  };
});

forgeContract('GitHub, on the fake', async () => {
  const setup = await gitHubForgeSetup();
  const { fake } = setup;
  return {
    forge: setup.forge,
    repoDir: setup.cloneDir,
    base: 'main',
    async reviewAsWriter(number, state) {
      fake.setRole(OWNER, REPO, 'writer', 'write');
      await fake.addReview(OWNER, REPO, number, {
        user: 'writer',
        state: state === 'approved' ? 'APPROVED' : 'CHANGES_REQUESTED',
      });
      return 'writer';
    },
    async approveAsReader(number) {
      fake.setRole(OWNER, REPO, 'reader', 'read');
      await fake.addReview(OWNER, REPO, number, { user: 'reader', state: 'APPROVED' });
      return 'reader';
    },
    async commentBody(_issue, id) {
      return fake.repo(OWNER, REPO).comments.find((comment) => comment.id === id)?.body ?? '';
    },
    async reviewWithComments(number, review) {
      fake.setRole(OWNER, REPO, 'writer', 'write');
      const state =
        review.state === 'approved'
          ? 'APPROVED'
          : review.state === 'changes_requested'
            ? 'CHANGES_REQUESTED'
            : 'COMMENTED';
      return (
        await fake.addReview(OWNER, REPO, number, {
          user: 'writer',
          state,
          body: review.body,
          comments: review.comments,
        })
      ).id;
    },
    async replies(number) {
      return fake.replies(OWNER, REPO, number).map((reply) => ({ inReplyTo: reply.inReplyTo ?? 0, body: reply.body }));
    },
    labels: async (number) => fake.labels(OWNER, REPO, number),
    requestedReviewers: async (number) => fake.requestedReviewers(OWNER, REPO, number),
    async failCheck(headSha, { name, ...output }) {
      fake.addCheckRun(OWNER, REPO, { name, headSha, status: 'completed', conclusion: 'failure', output });
    },
    close: () => setup.close(),
  };
});

describe('LocalForge records', () => {
  it('loads a pull request record written before reviews had ids, texts, labels or requested reviewers', async () => {
    const root = await tempDir('fanout-forge-');
    const repoDir = join(root, 'repo');
    await createRepository(repoDir, { 'README.md': '# hello\n' });
    const stateDir = join(root, 'state');
    const forge = new LocalForge(repoDir, stateDir);
    const base = await forge.fetchBase('main');
    const head = await commitFiles(join(repoDir, '.git'), base, { 'a.txt': 'a\n' });
    await forge.pushBranch('fanout/run-1/a', head, null);
    const pr = await forge.openPullRequest({
      runId: 'run-1',
      subtaskId: 'a',
      title: 'A',
      body: '',
      branch: 'fanout/run-1/a',
      base: 'main',
      headSha: head,
    });
    const [key] = await readdir(join(stateDir, 'local-forge'));
    const path = join(stateDir, 'local-forge', key!, `pr-${pr.number}.json`);
    const {
      labels: _labels,
      requestedReviewers: _requested,
      ...old
    } = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(
      path,
      JSON.stringify({
        ...old,
        reviews: [{ by: 'me', state: 'approved', headSha: head, at: new Date().toISOString() }],
      }),
    );

    expect(await forge.readiness(pr.number)).toMatchObject({ approvals: [{ by: 'me', headSha: head }] });
    expect(await forge.labels(pr.number)).toEqual([]);
    expect(await forge.requestedReviewers(pr.number)).toEqual([]);
    expect(await forge.reviewFeedback(pr.number, 1)).toEqual({
      reviewer: 'me',
      state: 'approved',
      body: '',
      comments: [],
    });
    expect(await forge.recordReview(pr.number, { by: 'you', state: 'commented', body: 'hm' })).toBe(2);
    expect(await forge.readiness(pr.number)).toMatchObject({ approvals: [{ by: 'me', headSha: head }] });
  });
});
