import type { SecretRedactor } from '../../domain/redactor.js';
import type { Forge } from '../../ports/forge.js';

/**
 * A Forge that redacts secrets from everything it posts: PR titles and bodies, check titles,
 * summaries and details, approval reasons and merge titles. What a forge shows is public to
 * everyone who can read the repository, and a PR body or check output quotes what agents and
 * commands printed. Numbers, branches and SHAs are addresses and pass unchanged, as do reads.
 */
export function redactingForge(forge: Forge, redactor: SecretRedactor): Forge {
  return {
    kind: forge.kind,
    openPullRequest: (request) => forge.openPullRequest({ ...request, title: redactor.text(request.title), body: redactor.text(request.body) }),
    getPullRequest: (number) => forge.getPullRequest(number),
    updateHead: (number, sha, expectedSha) => forge.updateHead(number, sha, expectedSha),
    publishCheck: (number, check) =>
      forge.publishCheck(number, {
        ...check,
        title: redactor.text(check.title),
        summary: redactor.text(check.summary),
        ...(check.details !== undefined ? { details: redactor.text(check.details) } : {}),
      }),
    approve: (number, reason) => forge.approve(number, redactor.text(reason)),
    merge: async (number, request) => {
      const result = await forge.merge(number, { ...request, title: redactor.text(request.title) });
      // A refusal's reason is shown and stored; it may quote an error that carried a token.
      return result.kind === 'refused' ? { kind: 'refused', reason: redactor.text(result.reason) } : result;
    },
  };
}
