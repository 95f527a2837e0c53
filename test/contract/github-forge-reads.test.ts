import { describe, expect, it } from 'vitest';
import { OWNER, REPO } from '../support/fake-github/forge-setup.js';
import { gitHubForgeSetups, openedPullRequest } from '../support/fake-github/forge-steps.js';

describe('GitHubForge on the fake GitHub: reading CI, reviews and permissions', () => {
  const start = gitHubForgeSetups();

  it("reads the repository's own CI: other apps' check runs and commit statuses; no statuses is not pending", async () => {
    const setup = await start();
    const { head, pr } = await openedPullRequest(setup);
    const checks = async () => (await setup.forge.readiness(pr.number)).checks;
    expect(await checks()).toEqual([]);
    setup.fake.addCheckRun(OWNER, REPO, { name: 'ci/build', headSha: head, status: 'queued' });
    setup.fake.addStatus(OWNER, REPO, head, 'ci/legacy', 'failure');
    expect(await checks()).toEqual([
      { name: 'ci/build', state: 'pending' },
      { name: 'ci/legacy', state: 'failure' },
    ]);
    setup.fake.addCheckRun(OWNER, REPO, {
      name: 'ci/build',
      headSha: head,
      status: 'completed',
      conclusion: 'skipped',
    });
    setup.fake.addCheckRun(OWNER, REPO, {
      name: 'ci/e2e',
      headSha: head,
      status: 'completed',
      conclusion: 'timed_out',
    });
    setup.fake.addStatus(OWNER, REPO, head, 'ci/legacy', 'success');
    expect(await checks()).toEqual([
      { name: 'ci/build', state: 'success' },
      { name: 'ci/e2e', state: 'failure' },
      { name: 'ci/legacy', state: 'success' },
    ]);
  });

  it('counts approvals by maintainers and admins, not by triagers; a comment-only review changes nothing', async () => {
    const setup = await start();
    const { head, pr } = await openedPullRequest(setup);
    for (const [user, role] of [
      ['maria', 'maintain'],
      ['ada', 'admin'],
      ['tom', 'triage'],
    ] as const) {
      setup.fake.setRole(OWNER, REPO, user, role);
      await setup.fake.addReview(OWNER, REPO, pr.number, { user, state: 'APPROVED' });
    }
    await setup.fake.addReview(OWNER, REPO, pr.number, { user: 'ada', state: 'COMMENTED' });
    expect(await setup.forge.readiness(pr.number)).toEqual({
      checks: [],
      approvals: [
        { by: 'maria', headSha: head },
        { by: 'ada', headSha: head },
      ],
      changesRequestedBy: [],
      ci: { requiredChecks: [], requiredApprovals: 0, startingSuites: [] },
    });
  });

  it('reads what the base branch requires (classic protection and rulesets) and the check suites not started yet', async () => {
    const setup = await start();
    const { head, pr } = await openedPullRequest(setup);
    const ci = async () => (await setup.forge.readiness(pr.number)).ci;
    setup.fake.protectBranch(OWNER, REPO, 'main', { requiredChecks: ['ci/test'], requiredApprovals: 2 });
    setup.fake.addRuleset(OWNER, REPO, 'main', { requiredChecks: ['ci/lint', 'ci/test'], requiredApprovals: 1 });
    setup.fake.addCheckSuite(OWNER, REPO, { headSha: head, appSlug: 'circleci' });
    setup.fake.addCheckRun(OWNER, REPO, { name: 'build', headSha: head, status: 'in_progress', appId: 901 });
    // Classic protection's required reviews need Administration read: only the ruleset's count shows.
    expect(await setup.forge.readiness(pr.number).then((readiness) => readiness.ci)).toEqual({
      requiredChecks: ['ci/test', 'ci/lint'],
      requiredApprovals: 1,
      startingSuites: ['circleci'],
      firstCheckAt: expect.stringMatching(/^\d{4}-/),
    });
    // Its first check run started: the suite is no longer one that has not started.
    setup.fake.addCheckRun(OWNER, REPO, { name: 'circle/test', headSha: head, status: 'queued', appId: 778 });
    expect((await ci())?.startingSuites).toEqual([]);
  });

  it("keeps a check's long output within GitHub's limits, the text's tail included", async () => {
    const setup = await start();
    const { head } = await openedPullRequest(setup);
    const id = await setup.forge.startCheck({ name: 'fanout/validate', headSha: head, title: 'Validating' });
    await setup.forge.completeCheck(id, {
      conclusion: 'failure',
      title: 'Failed',
      summary: 's'.repeat(70_000),
      text: `${'x'.repeat(100_000)}\nnpm test: 3 failing`,
    });
    const run = setup.fake.repo(OWNER, REPO).checkRuns.find((candidate) => String(candidate.id) === id);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run?.output.text?.length).toBeLessThanOrEqual(65_535);
    expect(run?.output.text).toMatch(/npm test: 3 failing$/);
    expect(run?.output.summary?.length).toBeLessThanOrEqual(65_535);
  });

  it("reads a review's text as '' when GitHub sends null, and an outdated comment's line as null", async () => {
    const setup = await start();
    const { pr } = await openedPullRequest(setup);
    const { id, commentIds } = await setup.fake.addReview(OWNER, REPO, pr.number, {
      user: 'wes',
      state: 'COMMENTED',
      comments: [{ path: 'a.txt', line: null, body: 'This whole file?' }],
    });
    expect(await setup.forge.reviewFeedback(pr.number, id)).toEqual({
      reviewer: 'wes',
      state: 'commented',
      body: '',
      comments: [{ id: commentIds[0], path: 'a.txt', line: null, body: 'This whole file?' }],
    });
  });

  it("reports failed checks with failure-level annotations, an Actions job's log tail, and failed statuses", async () => {
    const setup = await start();
    const { head } = await openedPullRequest(setup);
    const { fake } = setup;
    const annotations = [
      { path: 'README.md', line: 3, level: 'warning' as const, message: 'Long line' },
      ...Array.from({ length: 25 }, (_, index) => ({
        path: 'src/app.js',
        line: index + 1,
        level: 'failure' as const,
        message: `error ${index + 1}`,
      })),
    ];
    fake.addCheckRun(OWNER, REPO, {
      name: 'lint',
      headSha: head,
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'Lint', summary: '26 problems' },
      annotations,
    });
    fake.addCheckRun(OWNER, REPO, {
      name: 'style',
      headSha: head,
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'Style', summary: '1 problem' },
      annotations: [annotations[0]!],
    });
    const log = `${'2024-05-01T10:00:00.1234567Z noise\n'.repeat(3_000)}2024-05-01T10:00:01.0000000Z FAIL adds\n2024-05-01T10:00:01.0000000Z expected 2, got 3\n`;
    fake.addCheckRun(OWNER, REPO, {
      name: 'test',
      headSha: head,
      status: 'completed',
      conclusion: 'timed_out',
      appSlug: 'github-actions',
      output: { title: 'Timed out', summary: '', text: 'output text' },
      log,
    });
    // A job whose log cannot be read keeps its output text's tail.
    fake.addCheckRun(OWNER, REPO, {
      name: 'build',
      headSha: head,
      status: 'completed',
      conclusion: 'failure',
      appSlug: 'github-actions',
      output: { title: 'Build failed', summary: 's'.repeat(3_000), text: 'tsc: 1 error' },
    });
    fake.addCheckRun(OWNER, REPO, { name: 'green', headSha: head, status: 'completed', conclusion: 'success' });
    fake.addCheckRun(OWNER, REPO, { name: 'cancelled', headSha: head, status: 'completed', conclusion: 'cancelled' });
    // A failure since re-run green is not a failure.
    fake.addCheckRun(OWNER, REPO, { name: 'flaky', headSha: head, status: 'completed', conclusion: 'failure' });
    fake.addCheckRun(OWNER, REPO, { name: 'flaky', headSha: head, status: 'completed', conclusion: 'success' });
    fake.addStatus(OWNER, REPO, head, 'ci/legacy', 'error', { description: 'The build errored' });
    fake.addStatus(OWNER, REPO, head, 'ci/ok', 'success');

    const failures = await setup.forge.checkFailures(head);
    expect(failures.map((failure) => failure.name)).toEqual(['lint', 'style', 'test', 'build', 'ci/legacy']);
    const [lint, style, test, build, legacy] = failures;
    expect(lint).toMatchObject({ summary: 'Lint\n\n26 problems', logTail: '' });
    expect(lint!.annotations).toHaveLength(20);
    expect(lint!.annotations[0]).toEqual({ path: 'src/app.js', line: 1, message: 'error 1' });
    expect(style!.annotations).toEqual([{ path: 'README.md', line: 3, message: 'Long line' }]);
    expect(test!.logTail).toMatch(/\nFAIL adds\nexpected 2, got 3$/);
    expect(test!.logTail).not.toContain('2024-05-01T');
    expect(test!.logTail.length).toBeLessThanOrEqual(4_000);
    expect(build).toMatchObject({ logTail: 'tsc: 1 error' });
    expect(build!.summary.length).toBeLessThanOrEqual(2_000);
    expect(legacy).toEqual({ name: 'ci/legacy', summary: 'The build errored', annotations: [], logTail: '' });
    expect(
      fake
        .callsTo('GET', /\/actions\/jobs\/\d+\/logs$/)
        .map((call) => call.status)
        .sort(),
    ).toEqual([302, 404]);
    expect(fake.callsTo('GET', /\/annotations$/)).toHaveLength(2);
  });
});
