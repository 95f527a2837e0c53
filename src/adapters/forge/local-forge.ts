import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FanoutError } from '../../domain/errors.js';
import { FANOUT_AUTHOR } from '../../domain/identity.js';
import type { CheckReport, Forge, MergeResult, OpenPullRequest, PullRequestInfo } from '../../ports/forge.js';
import { withFileLock } from '../file-lock.js';
import { readJsonFile, writeJsonFile } from '../json-file.js';
import { runGit } from '../workspace/git-cli.js';
import { identityEnv } from '../workspace/git-workspace.js';

interface LocalPullRequest extends PullRequestInfo {
  runId: string;
  subtaskId: string;
  title: string;
  body: string;
  checks: CheckReport[];
  approvals: string[];
  createdAt: string;
}

/**
 * The Forge port for a local repository: a pull request is its branch plus a JSON record under
 * the state directory; a merge is a merge commit of exactly the validated tree, put on the base
 * branch with a compare-and-swap. The user's checkout is never merged in: if it has the base
 * branch checked out it is fast-forwarded when clean (git's `updateInstead`), and the merge is
 * refused, with the reason, when it has local changes.
 */
export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  private readonly repoDir: string;
  private readonly dir: string;

  constructor(repoDir: string, stateDir: string) {
    this.repoDir = resolve(repoDir);
    const key = createHash('sha256').update(this.repoDir).digest('hex').slice(0, 12);
    this.dir = join(stateDir, 'local-forge', key);
  }

  async openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo> {
    await mkdir(this.dir, { recursive: true });
    return withFileLock(join(this.dir, 'numbers.lock'), async () => {
      const existing = (await this.all()).find((pr) => pr.branch === request.branch && pr.state === 'open');
      if (existing) return this.info(existing);
      const number = (await this.all()).reduce((max, pr) => Math.max(max, pr.number), 0) + 1;
      const record: LocalPullRequest = {
        number,
        url: `local:${this.repoDir}#${number}`,
        branch: request.branch,
        base: request.base,
        headSha: request.headSha,
        state: 'open',
        approved: false,
        runId: request.runId,
        subtaskId: request.subtaskId,
        title: request.title,
        body: request.body,
        checks: [],
        approvals: [],
        createdAt: new Date().toISOString(),
      };
      await this.save(record);
      return this.info(record);
    });
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    return this.info(await this.load(number));
  }

  async updateHead(number: number, sha: string, expectedSha: string): Promise<void> {
    const record = await this.load(number);
    await runGit(['update-ref', `refs/heads/${record.branch}`, sha, expectedSha], { cwd: this.repoDir });
    await this.save({ ...record, headSha: sha });
  }

  async publishCheck(number: number, check: CheckReport): Promise<void> {
    const record = await this.load(number);
    await this.save({ ...record, checks: [...record.checks, check] });
  }

  async approve(number: number, reason: string): Promise<void> {
    const record = await this.load(number);
    await this.save({ ...record, approved: true, approvals: [...record.approvals, reason] });
  }

  async merge(number: number, request: { expectedHeadSha: string; title: string }): Promise<MergeResult> {
    const record = await this.load(number);
    if (record.state !== 'open') return { kind: 'refused', reason: `pull request #${number} is ${record.state}` };
    const head = await this.resolve(`refs/heads/${record.branch}`);
    if (head !== request.expectedHeadSha) {
      return { kind: 'refused', reason: `the branch moved to ${head.slice(0, 8)} after ${request.expectedHeadSha.slice(0, 8)} was validated` };
    }
    const base = await this.resolve(`refs/heads/${record.base}`);
    const ancestry = await runGit(['merge-base', '--is-ancestor', base, head], { cwd: this.repoDir, allowExitCodes: [1] });
    if (ancestry.exitCode !== 0) return { kind: 'refused', reason: `the branch is not up to date with ${record.base}` };
    const checkout = await this.checkoutOf(record.base);
    if (checkout && (await this.hasLocalChanges(checkout))) {
      return { kind: 'refused', reason: `${record.base} is checked out in ${checkout} with uncommitted changes; commit or stash them, then resume the run` };
    }
    const { stdout: tree } = await runGit(['rev-parse', `${head}^{tree}`], { cwd: this.repoDir });
    const message = `Merge pull request #${number} from ${record.branch}\n\n${request.title}\n`;
    const { stdout: merged } = await runGit(['commit-tree', tree.trim(), '-p', base, '-p', head, '-F', '-'], {
      cwd: this.repoDir,
      env: identityEnv(FANOUT_AUTHOR),
      input: message,
    });
    const sha = merged.trim();
    // Compare-and-swap: if anyone moved the base meanwhile, nothing is overwritten.
    const swapped = await runGit(['update-ref', `refs/heads/${record.base}`, sha, base], { cwd: this.repoDir, allowExitCodes: [1, 128] });
    if (swapped.exitCode !== 0) return { kind: 'refused', reason: `${record.base} moved while merging; try again` };
    if (checkout) await runGit(['read-tree', '-u', '-m', base, sha], { cwd: checkout });
    await this.save({ ...record, state: 'merged', mergedSha: sha, headSha: head });
    return { kind: 'merged', sha };
  }

  private async all(): Promise<LocalPullRequest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(names.filter((name) => /^pr-\d+\.json$/.test(name)).map((name) => readJsonFile<LocalPullRequest>(join(this.dir, name))));
    return records.filter((record): record is LocalPullRequest => record !== null).sort((a, b) => a.number - b.number);
  }

  private async load(number: number): Promise<LocalPullRequest> {
    const record = await readJsonFile<LocalPullRequest>(join(this.dir, `pr-${number}.json`));
    if (!record) throw new FanoutError('pr-not-found', `No local pull request #${number} for ${this.repoDir}.`);
    return record;
  }

  private async save(record: LocalPullRequest): Promise<void> {
    await writeJsonFile(join(this.dir, `pr-${record.number}.json`), record);
  }

  private async info(record: LocalPullRequest): Promise<PullRequestInfo> {
    // An open PR's head is wherever its branch is now.
    const head = record.state === 'open' ? await this.resolve(`refs/heads/${record.branch}`).catch(() => record.headSha) : record.headSha;
    return {
      number: record.number,
      url: record.url,
      branch: record.branch,
      base: record.base,
      headSha: head,
      state: record.state,
      approved: record.approved,
      ...(record.mergedSha ? { mergedSha: record.mergedSha } : {}),
    };
  }

  private async resolve(ref: string): Promise<string> {
    return (await runGit(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: this.repoDir })).stdout.trim();
  }

  /** The worktree (the user's checkout or another) that has `branch` checked out, if any. */
  private async checkoutOf(branch: string): Promise<string | null> {
    const { stdout } = await runGit(['worktree', 'list', '--porcelain', '-z'], { cwd: this.repoDir });
    let current: string | null = null;
    for (const field of stdout.split('\0')) {
      if (field.startsWith('worktree ')) current = field.slice('worktree '.length);
      if (field === `branch refs/heads/${branch}` && current) return current;
    }
    return null;
  }

  private async hasLocalChanges(checkout: string): Promise<boolean> {
    const { stdout } = await runGit(['status', '--porcelain', '--untracked-files=no'], { cwd: checkout });
    return stdout.trim() !== '';
  }
}
