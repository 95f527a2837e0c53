import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { GitHubForge } from '../../src/adapters/forge/github/github-forge.js';
import { ForgeError } from '../../src/domain/errors.js';
import { OWNER, REPO } from '../support/fake-github/forge-setup.js';
import { gitHubForgeSetups, openedPullRequest, PULLS, pushed } from '../support/fake-github/forge-steps.js';
import { commitFiles, hasCommit, resolveRef, setBranch } from '../support/fake-github/git.js';

describe('GitHubForge on the fake GitHub: writes, retries, merges and auth', () => {
  const start = gitHubForgeSetups();

  it('after a 502 on creating a PR that GitHub did create, finds it: one PR, created once', async () => {
    // Octokit's own retry is on here, so only the call's `retries: 0` keeps the POST from repeating.
    const setup = await start({ retry: true });
    const { request } = await pushed(setup);
    setup.fake.failNext({ method: 'POST', path: PULLS, status: 502, afterApplying: true });
    const pr = await setup.forge.openPullRequest(request);
    expect([...setup.fake.repo(OWNER, REPO).pulls.keys()]).toEqual([pr.number]);
    expect(setup.fake.callsTo('POST', PULLS)).toHaveLength(1);
    expect(setup.fake.callsTo('GET', PULLS).map((call) => call.query)).toEqual([
      { head: 'octo:fanout/run-1/a', state: 'all', per_page: '100' },
    ]);
  });

  it('after a 502 on creating a PR that GitHub did not create, looks, then creates it once more', async () => {
    const setup = await start({ retry: true });
    const { request } = await pushed(setup);
    setup.fake.failNext({ method: 'POST', path: PULLS, status: 502 });
    const pr = await setup.forge.openPullRequest(request);
    expect([...setup.fake.repo(OWNER, REPO).pulls.keys()]).toEqual([pr.number]);
    expect(setup.fake.callsTo('POST', PULLS)).toHaveLength(2);
  });

  it('after a 502 on a comment that was posted, finds it by its marker: one comment', async () => {
    const setup = await start({ retry: true });
    const issue = setup.fake.createIssue(OWNER, REPO, 'Add a feature');
    const path = `/repos/${OWNER}/${REPO}/issues/${issue}/comments`;
    setup.fake.failNext({ method: 'POST', path, status: 502, afterApplying: true });
    const id = await setup.forge.createComment(issue, 'Fanout is planning');
    const comments = setup.fake.repo(OWNER, REPO).comments;
    expect(comments.map((comment) => comment.id)).toEqual([id]);
    expect(comments[0]?.body).toMatch(/^Fanout is planning\n\n<!-- fanout:[0-9a-f-]+ -->$/);
    expect(setup.fake.callsTo('POST', path)).toHaveLength(1);
  });

  it('gives git the installation token in a header only: not in .git/config, the remote URL or any URL', async () => {
    const setup = await start();
    await openedPullRequest(setup);
    expect(setup.seenTokens).not.toEqual([]);
    const config = await readFile(join(setup.cloneDir, '.git', 'config'), 'utf8');
    const gitSide = JSON.stringify(setup.fake.gitRequests.map((request) => request.url));
    for (const token of setup.seenTokens) {
      for (const form of [token, Buffer.from(`x-access-token:${token}`).toString('base64')]) {
        expect(config).not.toContain(form);
        expect(setup.remoteUrl).not.toContain(form);
        expect(gitSide).not.toContain(form);
      }
    }
    expect(config).not.toMatch(/extraheader|remote "/);
    // Every git request carried a token the fake issued: the push really was authenticated.
    expect(setup.fake.gitRequests.some((request) => request.url.includes('git-receive-pack'))).toBe(true);
    expect(setup.fake.gitRequests.every((request) => request.authorizedAs !== null && request.status === 200)).toBe(
      true,
    );
  });

  it('replaces a token that is about to expire before pushing', async () => {
    const setup = await start();
    setup.fake.nextTokenLifetime(10 * 60_000);
    await pushed(setup);
    const labels = (kind: string) => [
      ...new Set(
        setup.fake.gitRequests.filter((request) => request.url.includes(kind)).map((request) => request.authorizedAs),
      ),
    ];
    expect(labels('upload-pack')).toEqual(['token-1']);
    expect(labels('receive-pack')).toEqual(['token-2']);
    expect(setup.seenTokens).toEqual(setup.fake.tokens.map((token) => token.token));
  });

  it('refuses a merge whose head moved (409) or that GitHub will not do (405), with its words; nothing merges', async () => {
    const setup = await start({ retry: true });
    const { base, head, pr } = await openedPullRequest(setup);
    const merge = `${PULLS}/${pr.number}/merge`;
    setup.fake.failNext({
      method: 'PUT',
      path: merge,
      status: 409,
      body: { message: 'Head branch was modified. Review and try the merge again.' },
    });
    expect(await setup.forge.merge(pr.number, { expectedHeadSha: head, title: 'Work' })).toEqual({
      kind: 'refused',
      reason: 'head-moved',
      message: 'GitHub: Head branch was modified. Review and try the merge again.',
    });
    setup.fake.failNext({
      method: 'PUT',
      path: merge,
      status: 405,
      body: { message: 'Required status check "ci/build" is expected.' },
    });
    // A rule holds it for now (the PR has no conflict): the same merge may pass later.
    expect(await setup.forge.merge(pr.number, { expectedHeadSha: head, title: 'Work' })).toEqual({
      kind: 'refused',
      reason: 'blocked',
      message: 'GitHub: Required status check "ci/build" is expected.',
    });
    expect(setup.fake.callsTo('PUT', merge).map((call) => call.body)).toEqual([
      { sha: head, merge_method: 'merge', commit_title: `Work (#${pr.number})`, commit_message: '' },
      { sha: head, merge_method: 'merge', commit_title: `Work (#${pr.number})`, commit_message: '' },
    ]);
    expect(await setup.forge.fetchBase('main')).toBe(base);
  });

  it('reports a PR merged by a person as merged, and one closed by a person as not open, without merging', async () => {
    const setup = await start();
    const first = await openedPullRequest(setup, 'fanout/run-1/a');
    const second = await openedPullRequest(setup, 'fanout/run-1/b');
    const { data } = await setup.octokit.rest.pulls.merge({ owner: OWNER, repo: REPO, pull_number: first.pr.number });
    await setup.fake.closePullRequest(OWNER, REPO, second.pr.number);
    expect(await setup.forge.getPullRequest(first.pr.number)).toMatchObject({
      state: 'merged',
      mergedSha: data.sha,
      headSha: first.head,
    });
    expect(await setup.forge.merge(first.pr.number, { expectedHeadSha: first.head, title: 'Work' })).toEqual({
      kind: 'merged',
      sha: data.sha,
    });
    expect((await setup.forge.getPullRequest(second.pr.number)).state).toBe('closed');
    expect(await setup.forge.merge(second.pr.number, { expectedHeadSha: second.head, title: 'Work' })).toMatchObject({
      kind: 'refused',
      reason: 'not-open',
    });
    expect(setup.fake.callsTo('PUT', /\/merge$/)).toHaveLength(1);
  });

  it('merges with a method the repository allows, reading its settings once', async () => {
    const setup = await start({ prepare: (fake) => void (fake.repo(OWNER, REPO).settings.allowMergeCommit = false) });
    const first = await openedPullRequest(setup, 'fanout/run-1/a');
    const second = await openedPullRequest(setup, 'fanout/run-1/b');
    expect(await setup.forge.merge(first.pr.number, { expectedHeadSha: first.head, title: 'A' })).toMatchObject({
      kind: 'merged',
    });
    expect(await setup.forge.merge(second.pr.number, { expectedHeadSha: second.head, title: 'B' })).toMatchObject({
      kind: 'merged',
    });
    expect(
      setup.fake.callsTo('PUT', /\/merge$/).map((call) => (call.body as { merge_method: string }).merge_method),
    ).toEqual(['squash', 'squash']);
    expect(setup.fake.callsTo('GET', `/repos/${OWNER}/${REPO}`)).toHaveLength(1);
  });

  it('wraps GitHub failures into ForgeErrors that name the call and never hold the token', async () => {
    const setup = await start();
    const { pr } = await openedPullRequest(setup);
    const path = `${PULLS}/${pr.number}`;
    const failing = async () =>
      setup.forge.getPullRequest(pr.number).then(
        () => null,
        (error: unknown) => error as ForgeError,
      );
    setup.fake.failNext({
      method: 'GET',
      path,
      status: 403,
      headers: { 'retry-after': '30' },
      body: { message: 'You have exceeded a secondary rate limit.' },
    });
    const limited = await failing();
    setup.fake.failNext({
      method: 'GET',
      path,
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });
    const forbidden = await failing();
    setup.fake.failNext({ method: 'GET', path, status: 503 });
    const down = await failing();
    expect([limited?.code, forbidden?.code, down?.code]).toEqual([
      'forge-unavailable',
      'forge-auth',
      'forge-unavailable',
    ]);
    expect(limited?.message).toBe(
      `GitHub get pull request #${pr.number} failed (HTTP 403): You have exceeded a secondary rate limit. (retry after 30 s)`,
    );
    await expect(setup.forge.getPullRequest(999)).rejects.toMatchObject({ code: 'pr-not-found' });
    for (const error of [limited, forbidden, down])
      for (const token of setup.seenTokens) expect(error?.message).not.toContain(token);
  });

  it('says forge-auth when git is refused the token, without showing it', async () => {
    const setup = await start();
    const badToken = `ghs_${'A'.repeat(36)}`;
    const forge = new GitHubForge({
      octokit: setup.octokit,
      repository: { owner: OWNER, repo: REPO },
      cloneDir: setup.cloneDir,
      remoteUrl: setup.remoteUrl,
      tokens: { token: async () => badToken },
    });
    const error = await forge.fetchBase('main').then(
      () => null,
      (caught: unknown) => caught as ForgeError,
    );
    expect(error).toBeInstanceOf(ForgeError);
    expect(error?.code).toBe('forge-auth');
    expect(error?.message).not.toContain(badToken);
    expect(setup.fake.gitRequests.map((request) => request.authorizedAs)).toEqual([null]);
  });

  it("reads users' permissions (maintain is write, triage is read, strangers none) and acknowledges a comment once", async () => {
    const setup = await start();
    const roles = { ada: 'admin', maria: 'maintain', wes: 'write', tom: 'triage', rita: 'read', nora: 'none' } as const;
    for (const [user, role] of Object.entries(roles)) setup.fake.setRole(OWNER, REPO, user, role);
    const permissions = await Promise.all(
      [...Object.keys(roles), 'stranger'].map((user) => setup.forge.userPermission(user)),
    );
    expect(permissions).toEqual(['admin', 'write', 'write', 'read', 'read', 'none', 'none']);
    const issue = setup.fake.createIssue(OWNER, REPO, 'Task');
    const comment = await setup.forge.createComment(issue, '/orchestrate add a feature');
    await setup.forge.acknowledge(comment);
    await setup.forge.acknowledge(comment);
    expect(setup.fake.repo(OWNER, REPO).reactions.map((reaction) => reaction.content)).toEqual(['eyes']);
    expect(
      setup.fake
        .callsTo('POST', `/repos/${OWNER}/${REPO}/issues/comments/${comment}/reactions`)
        .map((call) => call.status),
    ).toEqual([201, 200]);
  });

  it('works offline with the real clone URL when GIT_CONFIG_GLOBAL maps https://github.com/ to the bare repositories', async () => {
    const setup = await start({
      remoteUrl: `https://github.com/${OWNER}/${REPO}.git`,
      prepare: async (fake) => void vi.stubEnv('GIT_CONFIG_GLOBAL', await fake.gitConfigFile()),
    });
    const { head, pr } = await openedPullRequest(setup);
    const result = await setup.forge.merge(pr.number, { expectedHeadSha: head, title: 'Work' });
    expect(result).toMatchObject({ kind: 'merged' });
    expect(await setup.forge.fetchBase('main')).toBe(result.kind === 'merged' ? result.sha : '');
    expect(await resolveRef(setup.fake.repo(OWNER, REPO).dir, 'refs/heads/fanout/run-1/a')).toBe(head);
    expect(setup.fake.gitRequests).toEqual([]);
  });

  it("fetches a PR's branch a person pushed to, so its head is in Fanout's clone", async () => {
    const setup = await start();
    const { head, pr } = await openedPullRequest(setup);
    const bare = setup.fake.repo(OWNER, REPO).dir;
    const theirs = await commitFiles(bare, head, { 'fix.txt': 'a fix by a person\n' });
    await setBranch(bare, 'fanout/run-1/a', theirs, head);
    const clone = join(setup.cloneDir, '.git');
    expect((await setup.forge.getPullRequest(pr.number)).headSha).toBe(theirs);
    expect(await hasCommit(clone, theirs)).toBe(false);
    expect(await setup.forge.fetchBase('fanout/run-1/a')).toBe(theirs);
    expect(await hasCommit(clone, theirs)).toBe(true);
  });

  it('after a 502 on a reply that GitHub did post, finds it by its marker: one reply', async () => {
    const setup = await start({ retry: true });
    const { pr } = await openedPullRequest(setup);
    const { commentIds } = await setup.fake.addReview(OWNER, REPO, pr.number, {
      user: 'wes',
      state: 'CHANGES_REQUESTED',
      comments: [{ path: 'a.txt', line: 1, body: 'Why?' }],
    });
    const replies = `${PULLS}/${pr.number}/comments/${commentIds[0]}/replies`;
    setup.fake.failNext({ method: 'POST', path: replies, status: 502, afterApplying: true });
    await setup.forge.replyToReviewComment(pr.number, commentIds[0]!, 'Because.');
    expect(setup.fake.replies(OWNER, REPO, pr.number).map((reply) => [reply.inReplyTo, reply.user])).toEqual([
      [commentIds[0], 'fanout-test[bot]'],
    ]);
    expect(setup.fake.callsTo('POST', replies)).toHaveLength(1);
  });

  it('asks nobody for an empty list, lets a 422 (the author, a stranger) go, and throws on anything else', async () => {
    const setup = await start();
    const { pr } = await openedPullRequest(setup);
    const requested = `${PULLS}/${pr.number}/requested_reviewers`;
    await setup.forge.requestReview(pr.number, []);
    expect(setup.fake.callsTo('POST', requested)).toEqual([]);
    setup.fake.setRole(OWNER, REPO, 'wes', 'write');
    await setup.forge.requestReview(pr.number, ['fanout-test[bot]']);
    await setup.forge.requestReview(pr.number, ['stranger']);
    expect(setup.fake.callsTo('POST', requested).map((call) => call.status)).toEqual([422, 422]);
    expect(setup.fake.requestedReviewers(OWNER, REPO, pr.number)).toEqual([]);
    setup.fake.failNext({
      method: 'POST',
      path: requested,
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });
    await expect(setup.forge.requestReview(pr.number, ['wes'])).rejects.toMatchObject({ code: 'forge-auth' });
    await setup.forge.requestReview(pr.number, ['wes']);
    expect(setup.fake.requestedReviewers(OWNER, REPO, pr.number)).toEqual(['wes']);
  });

  it('labels an issue with a label the repository does not have yet', async () => {
    const setup = await start();
    const issue = setup.fake.createIssue(OWNER, REPO, 'Task');
    await setup.forge.addLabel(issue, 'fanout: needs human');
    expect(setup.fake.labels(OWNER, REPO, issue)).toEqual(['fanout: needs human']);
    expect(setup.fake.repo(OWNER, REPO).labels.map((label) => label.name)).toEqual(['fanout: needs human']);
    await expect(setup.forge.addLabel(999, 'x')).rejects.toMatchObject({ code: 'pr-not-found' });
  });
});
