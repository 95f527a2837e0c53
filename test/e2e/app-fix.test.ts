import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { finish } from '../support/agent-replies.js';
import { appHarness, OWNER, REPO, type AppHarness } from '../support/app-harness.js';
import {
  botCommentsOn,
  ciFinished,
  commentOnPullRequest,
  fileOn,
  FIX_PLAN,
  headOf,
  MANUAL,
  pulls,
  review,
  write,
} from '../support/app-fix-steps.js';
import { scriptedBrain } from '../support/scripted-brain.js';

const exec = promisify(execFile);
let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A run whose two PRs wait for a review; the first agent's later fix attempts play `fixes`. */
async function waitingForReview(fixes: ScriptedReply[], config = MANUAL) {
  const brain = scriptedBrain({
    plan: FIX_PLAN,
    agents: {
      'First part': write('one.txt', 'alpha\nbeta\ngamma\n', 'Wrote one.txt.'),
      'Second part': write('two.txt', 'two\n', 'Wrote two.txt.'),
    },
    fixes: { 'First part': fixes },
  });
  harness = await appHarness({ script: brain.reply, files: { '.github/fanout.yml': config } });
  const h = harness;
  await h.comment('/orchestrate Write two files');
  await h.settle();
  const opened = pulls(h);
  expect(opened.map((pull) => pull.merged)).toEqual([false, false]);
  const first = opened[0]!;
  return { h, brain, first, second: opened[1]!, head: await headOf(h, first.head) };
}

describe('the GitHub App: reviews and red checks go back to the agent', () => {
  it('a changes-requested review with two inline comments: a fix commit on the same PR, both threads answered, review requested again, merged after approval', async () => {
    const { h, brain, first, head } = await waitingForReview(
      write('one.txt', 'Alpha\nbeta\nGamma\n', 'Capitalized alpha and gamma.'),
    );
    const { commentIds } = await review(
      h,
      first,
      'maintainer',
      'CHANGES_REQUESTED',
      [
        { path: 'one.txt', line: 1, body: 'Capitalize alpha.' },
        { path: 'one.txt', line: 3, body: 'Capitalize gamma too.' },
      ],
      'Two small things.',
    );

    // The agent saw both comments with the code they point at.
    const [prompt] = brain.fixPromptsFor('First part');
    expect(prompt).toContain('Review by @maintainer (changes requested):\n\nTwo small things.');
    expect(prompt).toContain('Comment 1 on one.txt, line 1:\nCapitalize alpha.');
    expect(prompt).toContain('1> alpha');
    expect(prompt).toContain('Comment 2 on one.txt, line 3:\nCapitalize gamma too.');
    expect(prompt).toContain('3> gamma');

    // A new commit on the same branch, on top of the reviewed head.
    const fixed = await headOf(h, first.head);
    expect(fixed).not.toBe(head);
    expect(
      (await exec('git', ['--git-dir', h.fake.repo(OWNER, REPO).dir, 'rev-parse', `${fixed}^`])).stdout.trim(),
    ).toBe(head);
    expect(await fileOn(h, first.head, 'one.txt')).toBe('Alpha\nbeta\nGamma\n');
    expect(h.fake.repo(OWNER, REPO).pulls.size).toBe(2);
    const checks = h.fake
      .repo(OWNER, REPO)
      .checkRuns.filter((run) => run.headSha === fixed)
      .map((run) => [run.name, run.conclusion]);
    expect(checks).toEqual(
      expect.arrayContaining([
        ['fanout/validate', 'success'],
        ['fanout/scope', 'success'],
      ]),
    );

    // One reply in each thread, and the reviewer asked again.
    const replies = h.fake.replies(OWNER, REPO, first.number);
    expect(replies.map((reply) => reply.inReplyTo).sort()).toEqual([...commentIds].sort());
    for (const reply of replies) expect(reply.body).toContain(`Fanout's agent pushed ${fixed.slice(0, 8)} for this.`);
    expect(h.fake.requestedReviewers(OWNER, REPO, first.number)).toEqual(['maintainer']);
    expect(first.merged).toBe(false);

    await review(h, first, 'maintainer', 'APPROVED');
    expect(h.fake.repo(OWNER, REPO).pulls.get(first.number)!.merged).toBe(true);
    expect(await fileOn(h, 'main', 'one.txt')).toBe('Alpha\nbeta\nGamma\n');
    expect(h.issueComments()[0]).toMatch(
      /\| 1 \| `one` First part \| builtin \| merged [0-9a-f]{8} \(1 fix attempt\) \|/,
    );
  });

  it('a red CI check: the failure output goes to the agent, its fix is pushed, and the PR merges once green', async () => {
    const { h, brain, first, head } = await waitingForReview(
      write('one.txt', 'ALPHA\nbeta\ngamma\n', 'Upper-cased the first line as the test expects.'),
    );
    await ciFinished(h, first, head, 'failure', {
      log: 'not ok 1 - first line\n  expected: "ALPHA"\n  actual: "alpha"\n',
      annotations: [{ path: 'one.txt', line: 1, message: 'first line must be upper case' }],
    });

    const [prompt] = brain.fixPromptsFor('First part');
    expect(prompt).toContain('Check "ci/tests" failed.');
    expect(prompt).toContain('- one.txt:1: first line must be upper case');
    expect(prompt).toContain('expected: "ALPHA"');
    const fixed = await headOf(h, first.head);
    expect(fixed).not.toBe(head);
    expect(botCommentsOn(h, first.number)).toEqual([
      expect.stringContaining(`Fix attempt 1 for the failing checks: pushed ${fixed.slice(0, 8)}. Validation passed.`),
    ]);

    await ciFinished(h, first, fixed, 'success');
    await review(h, first, 'maintainer', 'APPROVED');
    expect(h.fake.repo(OWNER, REPO).pulls.get(first.number)!.merged).toBe(true);
    expect(await fileOn(h, 'main', 'one.txt')).toBe('ALPHA\nbeta\ngamma\n');
  });

  it('past maxFixAttempts the PR is labelled for a person, with a comment on what was tried, and the status comment says so', async () => {
    const { h, brain, first } = await waitingForReview(
      write('one.txt', 'Alpha\nbeta\ngamma\n', 'Capitalized alpha.'),
      `${MANUAL}maxFixAttempts: 1\n`,
    );
    await review(h, first, 'maintainer', 'CHANGES_REQUESTED', [
      { path: 'one.txt', line: 1, body: 'Capitalize alpha.' },
    ]);
    const afterFirst = await headOf(h, first.head);
    await review(h, first, 'maintainer', 'CHANGES_REQUESTED', [{ path: 'one.txt', line: 2, body: 'And beta.' }]);

    expect(brain.fixPromptsFor('First part')).toHaveLength(1);
    expect(await headOf(h, first.head)).toBe(afterFirst);
    expect(h.fake.labels(OWNER, REPO, first.number)).toEqual(['fanout: needs human']);
    const comments = botCommentsOn(h, first.number);
    expect(comments).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Fanout needs a person here: it reached `maxFixAttempts` \(1\) and more was asked\.\n\nWhat it tried:\n- attempt 1, review by @maintainer: pushed [0-9a-f]{8}/,
        ),
      ]),
    );
    expect(h.issueComments()[0]).toContain('🙋 needs a person');
  });

  it('ignores a review by someone without write access, and one by a bot the configuration does not list', async () => {
    const { h, brain, first, head } = await waitingForReview(
      write('one.txt', 'Alpha\nbeta\ngamma\n', 'Capitalized alpha.'),
    );
    await review(h, first, 'reader', 'CHANGES_REQUESTED', [{ path: 'one.txt', line: 1, body: 'Capitalize alpha.' }]);
    await review(h, first, 'lint-bot[bot]', 'CHANGES_REQUESTED', [
      { path: 'one.txt', line: 1, body: 'Capitalize alpha.' },
    ]);
    expect(brain.fixPromptsFor('First part')).toEqual([]);
    expect(await headOf(h, first.head)).toBe(head);
    expect(h.fake.replies(OWNER, REPO, first.number)).toEqual([]);
  });

  it('answers a comment on a file outside the write scope as such, and writes nothing there', async () => {
    const { h, brain, first, head } = await waitingForReview([finish('README.md is not mine to change.')]);
    const { commentIds } = await review(h, first, 'maintainer', 'COMMENTED', [
      { path: 'README.md', line: 1, body: 'Mention one.txt here.' },
    ]);
    expect(brain.fixPromptsFor('First part')).toEqual([
      expect.stringContaining(
        'Comments on files outside your write scope (do not change them; Fanout answers them):\n- README.md: Mention one.txt here.',
      ),
    ]);
    const [reply] = h.fake.replies(OWNER, REPO, first.number);
    expect(reply?.inReplyTo).toBe(commentIds[0]);
    expect(reply?.body).toContain(
      "`README.md` is outside this subtask's write scope (`one.txt`), so Fanout's agent did not change it.",
    );
    expect(await headOf(h, first.head)).toBe(head);
  });

  it('`/fanout fix` on the PR sends the agent back with the instructions', async () => {
    const { h, brain, first, head } = await waitingForReview(
      write('one.txt', 'alpha\nbeta\ngamma\ndelta\n', 'Added delta.'),
    );
    await commentOnPullRequest(h, first.number, '/fanout fix Add a fourth line, delta.');
    expect(brain.fixPromptsFor('First part')).toEqual([
      expect.stringContaining('@maintainer asked for a fix:\nAdd a fourth line, delta.'),
    ]);
    const fixed = await headOf(h, first.head);
    expect(fixed).not.toBe(head);
    expect(await fileOn(h, first.head, 'one.txt')).toBe('alpha\nbeta\ngamma\ndelta\n');
    expect(botCommentsOn(h, first.number)).toEqual([
      expect.stringContaining(
        "Sending `one`'s agent back to this pull request (asked by @maintainer; fix attempt 1 of at most 2).",
      ),
      expect.stringContaining(`Fix attempt 1 for @maintainer's request: pushed ${fixed.slice(0, 8)}.`),
    ]);
  });
});
