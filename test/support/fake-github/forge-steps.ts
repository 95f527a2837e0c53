import { join } from 'node:path';
import { afterEach, vi } from 'vitest';
import { type GitHubForgeSetup, OWNER, REPO, gitHubForgeSetup } from './forge-setup.js';
import { commitFiles } from './git.js';

/** The fake repository's pull requests endpoint. */
export const PULLS = `/repos/${OWNER}/${REPO}/pulls`;

/** Returns a `start` that builds a GitHubForge setup and closes it (and unstubs env) after each test. */
export function gitHubForgeSetups(): (options?: Parameters<typeof gitHubForgeSetup>[0]) => Promise<GitHubForgeSetup> {
  const running: GitHubForgeSetup[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const setup of running.splice(0)) await setup.close();
  });
  return async (options = {}) => {
    const setup = await gitHubForgeSetup(options);
    running.push(setup);
    return setup;
  };
}

/** Fetches the base, commits one file on it in Fanout's clone and pushes the branch. */
export async function pushed(setup: GitHubForgeSetup, branch = 'fanout/run-1/a') {
  const base = await setup.forge.fetchBase('main');
  const head = await commitFiles(join(setup.cloneDir, '.git'), base, {
    [`${branch.split('/').pop()}.txt`]: `${branch}\n`,
  });
  await setup.forge.pushBranch(branch, head, null);
  return {
    base,
    head,
    request: {
      runId: 'run-1',
      subtaskId: 'a',
      title: 'Work',
      body: 'Part of #1',
      branch,
      base: 'main',
      headSha: head,
    },
  };
}

/** Pushes a branch as `pushed` does and opens its pull request. */
export async function openedPullRequest(setup: GitHubForgeSetup, branch?: string) {
  const work = await pushed(setup, branch);
  return { ...work, pr: await setup.forge.openPullRequest(work.request) };
}
