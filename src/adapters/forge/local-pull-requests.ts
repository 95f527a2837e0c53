import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '../../domain/errors.js';
import { withFileLock } from '../file-lock.js';
import { readJsonFile, writeJsonFile } from '../json-file.js';
import type { LocalPullRequest, LocalReview } from './local-forge-merge.js';

/** A record as an older Fanout may have written it: no review ids or texts, no labels or reviewers asked. */
type StoredPullRequest = Omit<LocalPullRequest, 'reviews' | 'requestedReviewers' | 'labels'> & {
  reviews: Array<
    Omit<LocalReview, 'id' | 'body' | 'comments'> & Partial<Pick<LocalReview, 'id' | 'body' | 'comments'>>
  >;
  requestedReviewers?: string[];
  labels?: string[];
};

function withDefaults(stored: StoredPullRequest): LocalPullRequest {
  // Reviews without ids are numbered in order, the same way on every read until the record is saved.
  let lastId = Math.max(0, ...stored.reviews.map((review) => review.id ?? 0));
  return {
    ...stored,
    reviews: stored.reviews.map((review) => ({
      ...review,
      id: review.id ?? (lastId += 1),
      body: review.body ?? '',
      comments: review.comments ?? [],
    })),
    requestedReviewers: stored.requestedReviewers ?? [],
    labels: stored.labels ?? [],
  };
}

/** The local forge's pull request records: one private JSON file each, `pr-<number>.json`. */
export class LocalPullRequestFiles {
  constructor(
    private readonly dir: string,
    private readonly repoDir: string,
  ) {}

  /** Every record, by number. */
  async all(): Promise<LocalPullRequest[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names
        .filter((name) => /^pr-\d+\.json$/.test(name))
        .map((name) => readJsonFile<StoredPullRequest>(join(this.dir, name))),
    );
    return records
      .filter((record): record is StoredPullRequest => record !== null)
      .map(withDefaults)
      .sort((a, b) => a.number - b.number);
  }

  /** One record; `pr-not-found` when there is none. */
  async load(number: number): Promise<LocalPullRequest> {
    const record = await readJsonFile<StoredPullRequest>(join(this.dir, `pr-${number}.json`));
    if (!record) throw new ForgeError('pr-not-found', `No local pull request #${number} for ${this.repoDir}.`);
    return withDefaults(record);
  }

  async save(record: LocalPullRequest): Promise<void> {
    await writeJsonFile(join(this.dir, `pr-${record.number}.json`), record);
  }

  /** Read-modify-write of one record, one writer at a time. */
  async update(number: number, change: (record: LocalPullRequest) => LocalPullRequest): Promise<void> {
    await withFileLock(join(this.dir, `pr-${number}.lock`), async () => this.save(change(await this.load(number))));
  }
}
