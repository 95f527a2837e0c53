import { join } from 'node:path';
import { ForgeError } from '../../domain/errors.js';
import { withFileLock } from '../file-lock.js';
import { makePrivateDirectory, readJsonFile, writeJsonFile } from '../json-file.js';

/** A comment on a local issue or pull request (what GitHub would show as an issue comment). */
export interface LocalComment {
  id: number;
  on: number;
  body: string;
  updatedAt: string;
  /** The review comment this one replies to (a reply in a review thread on GitHub). */
  inReplyTo?: number;
}

/** The local forge's comments: one private JSON file, changed under the forge's numbers lock. */
export class LocalComments {
  constructor(private readonly dir: string) {}

  /** Adds a comment and returns its id. */
  async append(on: number, body: string, inReplyTo?: number): Promise<number> {
    await makePrivateDirectory(this.dir);
    return this.locked(async () => {
      const comments = await this.all();
      const id = comments.reduce((max, comment) => Math.max(max, comment.id), 0) + 1;
      const comment: LocalComment = {
        id,
        on,
        body,
        updatedAt: new Date().toISOString(),
        ...(inReplyTo !== undefined ? { inReplyTo } : {}),
      };
      await writeJsonFile(this.path(), [...comments, comment]);
      return id;
    });
  }

  /** Replaces a comment's text; refused when there is no such comment. */
  async update(commentId: number, body: string): Promise<void> {
    await this.locked(async () => {
      const comments = await this.all();
      if (!comments.some((comment) => comment.id === commentId))
        throw new ForgeError('forge-refused', `No comment ${commentId}.`);
      await writeJsonFile(
        this.path(),
        comments.map((comment) =>
          comment.id === commentId ? { ...comment, body, updatedAt: new Date().toISOString() } : comment,
        ),
      );
    });
  }

  /** Every comment on an issue or pull request, oldest first. */
  async on(issueOrPullRequest: number): Promise<LocalComment[]> {
    return (await this.all()).filter((comment) => comment.on === issueOrPullRequest);
  }

  private async all(): Promise<LocalComment[]> {
    return (await readJsonFile<LocalComment[]>(this.path())) ?? [];
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    return withFileLock(join(this.dir, 'numbers.lock'), work);
  }

  private path(): string {
    return join(this.dir, 'comments.json');
  }
}
