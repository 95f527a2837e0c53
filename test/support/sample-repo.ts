import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRepository } from '../../src/demo/sample-repo.js';
import { tempDir } from './temp-dir.js';

const exec = promisify(execFile);

/** Runs git in `cwd` with the caller's environment; returns its trimmed stdout. */
export const git = async (cwd: string, ...args: string[]) => (await exec('git', args, { cwd })).stdout.trim();

/** A one-commit repository (README.md) in a fresh temporary directory, and that commit. */
export async function sampleRepo() {
  const root = await tempDir('fanout-workspace-');
  const repo = join(root, 'repo');
  await createRepository(repo, { 'README.md': '# r\n' });
  return { root, repo, base: await git(repo, 'rev-parse', 'HEAD') };
}
