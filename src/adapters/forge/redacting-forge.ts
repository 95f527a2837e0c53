import type { SecretRedactor } from '../../domain/redactor.js';
import type { Forge, MergeResult } from '../../ports/forge.js';

/**
 * A Forge that redacts secrets from everything it posts: PR titles and bodies, check titles,
 * summaries and texts, comments, review replies and merge titles. What a forge shows is public to
 * everyone who can read the repository, and a PR body or check output quotes what agents and
 * commands printed. Numbers, branches and SHAs are addresses and pass unchanged, as do reads.
 */
export function redactingForge(forge: Forge, redactor: Pick<SecretRedactor, 'text'>): Forge {
  const text = (value: string) => redactor.text(value);
  // A refusal's message is shown and stored; it may quote an error that carried a token.
  const redactRefusal = (result: MergeResult): MergeResult =>
    result.kind === 'refused' ? { ...result, message: text(result.message) } : result;
  return {
    pushBranch: (branch, sha, expectedSha) => forge.pushBranch(branch, sha, expectedSha),
    openPullRequest: (request) =>
      forge.openPullRequest({ ...request, title: text(request.title), body: text(request.body) }),
    getPullRequest: (number) => forge.getPullRequest(number),
    fetchBase: (base) => forge.fetchBase(base),
    startCheck: (request) => forge.startCheck({ ...request, title: text(request.title) }),
    completeCheck: (checkId, result) =>
      forge.completeCheck(checkId, {
        ...result,
        title: text(result.title),
        summary: text(result.summary),
        ...(result.text !== undefined ? { text: text(result.text) } : {}),
      }),
    readiness: (number) => forge.readiness(number),
    merge: async (number, request) =>
      redactRefusal(await forge.merge(number, { ...request, title: text(request.title) })),
    mergeSeries: async (requests) =>
      (await forge.mergeSeries(requests.map((request) => ({ ...request, title: text(request.title) })))).map(
        redactRefusal,
      ),
    userPermission: (login) => forge.userPermission(login),
    acknowledge: (commentId) => forge.acknowledge(commentId),
    createComment: (issueOrPullRequest, body) => forge.createComment(issueOrPullRequest, text(body)),
    updateComment: (commentId, body) => forge.updateComment(commentId, text(body)),
    reviewFeedback: (pullRequest, reviewId) => forge.reviewFeedback(pullRequest, reviewId),
    replyToReviewComment: (pullRequest, commentId, body) =>
      forge.replyToReviewComment(pullRequest, commentId, text(body)),
    // Logins and labels are names Fanout chose or GitHub gave, not text an agent wrote.
    requestReview: (pullRequest, reviewers) => forge.requestReview(pullRequest, reviewers),
    addLabel: (issueOrPullRequest, label) => forge.addLabel(issueOrPullRequest, label),
    checkFailures: (headSha) => forge.checkFailures(headSha),
  };
}
