import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FanoutError } from '../../domain/errors.js';
import type { Failpoint } from '../../domain/failpoint.js';
import type { CheckReport, Forge, MergeResult, OpenPullRequest, PullRequestInfo } from '../../ports/forge.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { readJsonFile, writeJsonFile } from '../json-file.js';
import { runGit } from '../workspace/git-cli.js';
import { type LocalPullRequest, type MergeContext, mergeOpenPullRequest, completeMerge } from './local-forge-merge.js';

export interface LocalForgeOptions {
  /** Called at the merge's failpoints (the fault suite kills the process there). */
  failpoint?: Failpoint;
}

/**
 * The Forge port for a local repository: a pull request is its branch plus a JSON record under
 * the state directory; a merge is a merge commit of exactly the validated tree, put on the base
 * branch with a compare-and-swap. The user's checkout is never merged in: if it has the base
 * branch checked out, its index and files move with the base, and the merge is refused, with the
 * reason, when they cannot without losing something (local changes, untracked or ignored files in
 * the way). A merge a process began and did not record is finished or undone by the next call
 * that reads that pull request (see `completeMerge`).
 */
export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  private readonly repoDir: string;
  private readonly dir: string;
  private readonly failpoint: Failpoint;
  // Merges and their recovery run one at a time, in this process and across processes.
  private readonly merges = new KeyedQueue();

  constructor(repoDir: string, stateDir: string, options: LocalForgeOptions = {}) {
    this.repoDir = resolve(repoDir);
    const key = createHash('sha256').update(this.repoDir).digest('hex').slice(0, 12);
    this.dir = join(stateDir, 'local-forge', key);
    this.failpoint = options.failpoint ?? (() => undefined);
  }

  async openPullRequest(request: OpenPullRequest): Promise<PullRequestInfo> {
    await mkdir(this.dir, { recursive: true });
    return withFileLock(join(this.dir, 'numbers.lock'), async () => {
      const existing = (await this.all()).find((pr) => pr.branch === request.branch && (pr.state === 'open' || pr.state === 'merging'));
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
    const record = await this.load(number);
    if (record.state !== 'merging') return this.info(record);
    return this.exclusively(async () => this.info(await this.settled(number)));
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
    return this.exclusively(async () => {
      const record = await this.settled(number);
      if (record.state === 'open') return mergeOpenPullRequest(this.mergeContext(), record, request);
      if (record.state === 'merged' && record.mergedSha && record.headSha === request.expectedHeadSha) {
        // Asked again (or finished by recovery): merged only if the merge is still on the base.
        const onBase = await runGit(['merge-base', '--is-ancestor', record.mergedSha, `refs/heads/${record.base}`], { cwd: this.repoDir, allowExitCodes: [1] });
        if (onBase.exitCode === 0) return { kind: 'merged', sha: record.mergedSha };
        return { kind: 'refused', reason: `pull request #${number} was merged as ${record.mergedSha.slice(0, 8)}, which is no longer on ${record.base}` };
      }
      return { kind: 'refused', reason: `pull request #${number} is ${record.state}` };
    });
  }

  /** The record, after finishing or undoing a merge an earlier call or process left in progress. */
  private async settled(number: number): Promise<LocalPullRequest> {
    const record = await this.load(number);
    if (record.state !== 'merging' || !record.merging) return record;
    return (await completeMerge(this.mergeContext(), { ...record, merging: record.merging })).record;
  }

  /** One merge or recovery at a time (a killed holder's lock is broken at once). */
  private async exclusively<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    return this.merges.run('merge', () => withFileLock(join(this.dir, 'merge.lock'), fn));
  }

  private mergeContext(): MergeContext {
    return { repoDir: this.repoDir, failpoint: this.failpoint, save: (record) => this.save(record) };
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
    const head = record.state === 'open' || record.state === 'merging' ? await this.resolve(`refs/heads/${record.branch}`).catch(() => record.headSha) : record.headSha;
    return {
      number: record.number,
      url: record.url,
      branch: record.branch,
      base: record.base,
      headSha: head,
      // A merge in progress is not a merge yet.
      state: record.state === 'merging' ? 'open' : record.state,
      approved: record.approved,
      ...(record.state === 'merged' && record.mergedSha ? { mergedSha: record.mergedSha } : {}),
    };
  }

  private async resolve(ref: string): Promise<string> {
    return (await runGit(['rev-parse', '--verify', `${ref}^{commit}`], { cwd: this.repoDir })).stdout.trim();
  }
}
