import { join } from 'node:path';
import { GitHubForge, type GitHubForgeOptions } from '../../../src/adapters/forge/github/github-forge.js';
import { ensureLocalClone } from '../../../src/adapters/forge/github/local-clone.js';
import { installationTokenSource } from '../../../src/adapters/forge/github/token-source.js';
import { tempDir } from '../temp-dir.js';
import { FakeGitHub } from './fake-github.js';
import { type TestOctokit, fakeGitHubOctokit } from './octokit.js';

export const OWNER = 'octo';
export const REPO = 'hello';
export const INSTALLATION_ID = 1;

export interface GitHubForgeSetup {
  fake: FakeGitHub;
  octokit: TestOctokit;
  forge: GitHubForge;
  cloneDir: string;
  remoteUrl: string;
  /** Every token the token source reported (what the composition root adds to the redactor). */
  seenTokens: string[];
  /** Fails on any call the fake does not implement, then stops it. */
  close(): Promise<void>;
}

/**
 * A GitHubForge for `octo/hello` on a fresh fake, built as the composition root would build it:
 * an installation Octokit from Probot, a token source, Fanout's clone, the repository's clone URL
 * (the fake's git endpoint unless `remoteUrl` names another, such as https://github.com/…).
 */
export async function gitHubForgeSetup(
  options: { retry?: boolean; remoteUrl?: string; prepare?: (fake: FakeGitHub) => void | Promise<void> } & Partial<
    Pick<GitHubForgeOptions, 'mergeMethod' | 'gitEnv'>
  > = {},
): Promise<GitHubForgeSetup> {
  const fake = await FakeGitHub.start();
  await fake.createRepository(OWNER, REPO, {
    files: { 'README.md': '# hello\n', 'src/app.js': 'export const x = 1;\n' },
  });
  await options.prepare?.(fake);
  const octokit = await fakeGitHubOctokit(fake, { retry: options.retry ?? false, installationId: INSTALLATION_ID });
  const cloneDir = join(await tempDir('fanout-clone-'), 'clone');
  await ensureLocalClone(cloneDir);
  const seenTokens: string[] = [];
  const remoteUrl = options.remoteUrl ?? fake.cloneUrl(OWNER, REPO);
  const forge = new GitHubForge({
    octokit,
    repository: { owner: OWNER, repo: REPO },
    cloneDir,
    remoteUrl,
    tokens: installationTokenSource(octokit, INSTALLATION_ID, (token) => seenTokens.push(token)),
    retryDelayMs: 0,
    ...(options.mergeMethod ? { mergeMethod: options.mergeMethod } : {}),
    ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
  });
  return {
    fake,
    octokit,
    forge,
    cloneDir,
    remoteUrl,
    seenTokens,
    async close() {
      const unexpected = [...fake.unexpected];
      await fake.close();
      if (unexpected.length > 0)
        throw new Error(`the fake GitHub got calls it does not implement: ${unexpected.join('; ')}`);
    },
  };
}
