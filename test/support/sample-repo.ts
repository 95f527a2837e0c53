import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRepository } from '../../src/demo/sample-repo.js';
import { tempDir } from './temp-dir.js';

const exec = promisify(execFile);

/**
 * An identity for the commits tests make themselves: a fresh machine or CI runner has no global
 * `user.email`, and git refuses to commit without one (`--author` sets only the author).
 */
export const TEST_IDENTITY = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

/** Runs git in `cwd` with the caller's environment and a test identity; returns its trimmed stdout. */
export const git = async (cwd: string, ...args: string[]) =>
  (await exec('git', args, { cwd, env: { ...process.env, ...TEST_IDENTITY } })).stdout.trim();

/** A one-commit repository (README.md) in a fresh temporary directory, and that commit. */
export async function sampleRepo() {
  const root = await tempDir('fanout-workspace-');
  const repo = join(root, 'repo');
  await createRepository(repo, { 'README.md': '# r\n' });
  return { root, repo, base: await git(repo, 'rev-parse', 'HEAD') };
}
