import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { branchCommit } from '../../src/adapters/workspace/branch-refs.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const git = async (repo: string, ...args: string[]) =>
  (await exec('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo })).stdout.trim();

describe('branchCommit', () => {
  it('reads loose and packed branches as git does, and asks git for anything else', async () => {
    const repo = await tempDir('fanout-refs-');
    await createRepository(repo);
    const first = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'branch', 'fanout/run-1/a');
    await git(repo, 'commit', '-q', '--allow-empty', '-m', 'second');
    const second = await git(repo, 'rev-parse', 'HEAD');
    expect(await branchCommit(repo, 'main')).toBe(second);
    expect(await branchCommit(repo, 'fanout/run-1/a')).toBe(first);
    // Packed (and then moved again, loose, over the packed value).
    await git(repo, 'pack-refs', '--all');
    expect(await branchCommit(repo, 'fanout/run-1/a')).toBe(first);
    expect(await branchCommit(repo, 'main')).toBe(second);
    await git(repo, 'update-ref', 'refs/heads/fanout/run-1/a', second);
    expect(await branchCommit(repo, 'fanout/run-1/a')).toBe(second);
    // A symbolic branch, and a name that is no plain path: git answers.
    await git(repo, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/fanout/run-1/a');
    expect(await branchCommit(repo, 'alias')).toBe(second);
    await expect(branchCommit(repo, 'no-such-branch')).rejects.toThrow();
    await expect(branchCommit(repo, '../../HEAD')).rejects.toThrow();
  });
});
