import type { GitHubTarget } from '../domain/command.js';

/** The parts of a webhook payload that say which repository and installation it is about. */
export interface TargetPayload {
  repository: {
    name: string;
    clone_url: string;
    html_url: string;
    default_branch: string;
    owner: { login: string } | null;
  };
  installation?: { id: number } | undefined;
}

/** The target a payload names, or null when it came without an installation (nothing can act on it). */
export function targetFromPayload(payload: TargetPayload): GitHubTarget | null {
  const { repository, installation } = payload;
  if (!installation || !repository.owner) return null;
  return {
    owner: repository.owner.login,
    repo: repository.name,
    installationId: installation.id,
    cloneUrl: repository.clone_url,
    htmlUrl: repository.html_url,
    defaultBranch: repository.default_branch,
  };
}
