import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CommandRecord } from '../../domain/command.js';
import { FanoutError } from '../../domain/errors.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { ensurePrivateDirectory, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, readJsonFile } from '../json-file.js';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// GitHub owner and repository names; `.` and `..` are refused separately (they are not names).
const SAFE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Webhook commands on plain files, durable and deduplicated across processes:
 *
 * - `commands/<id>.json`: the record (0600), created once with `link`, which fails if it exists.
 * - `commands/claims/delivery-<id>` and `commands/claims/comment-<owner>/<repo>/<commentId>`: one
 *   marker per dedupe key, claimed with `link` (atomic create-or-fail, like `O_EXCL`, but the
 *   marker appears with its content whole). Each marker is a hard link to the first record written
 *   for that key, so a reader learns which command holds it.
 *
 * A record is created only by a call whose command holds both keys (or finds them held by the same
 * delivery and comment), so there is at most one record per delivery id and per comment. A crash
 * between claiming and creating the record leaves claims that only the same delivery can complete:
 * a redelivery then stores the command and reports it new, so nothing acknowledged is lost and
 * nothing unacknowledged is dropped.
 */
export class FileCommandLog {
  private readonly queue = new KeyedQueue();
  private ready: Promise<void> | null = null;

  constructor(private readonly root: string) {}

  /** Stores the command unless its delivery or comment was claimed by another; true when this call stored it. */
  async record(command: CommandRecord): Promise<boolean> {
    const recordPath = this.recordPath(command.id);
    const keys = commandKeys(command);
    await this.prepare();
    const draft = join(this.dir, `.${command.id}.${randomBytes(6).toString('hex')}.tmp`);
    await writeDurably(draft, command);
    try {
      const touched = new Set<string>();
      for (const key of keys) {
        const marker = join(this.dir, 'claims', key);
        await makeParents(marker, touched);
        if (!(await claim(draft, marker))) {
          const holder = await readJsonFile<CommandRecord>(marker);
          if (!holder || !sameCommand(holder, command)) return false;
        }
        touched.add(dirname(marker));
      }
      const created = await claim(draft, recordPath);
      // Also when another call created it: answer only once the record is on disk either way.
      await Promise.all([...touched, this.dir].map(syncDirectory));
      return created;
    } finally {
      await rm(draft, { force: true });
    }
  }

  async get(id: string): Promise<CommandRecord | null> {
    return readJsonFile<CommandRecord>(this.recordPath(id));
  }

  async update(id: string, patch: Partial<Omit<CommandRecord, 'id'>>): Promise<CommandRecord> {
    const path = this.recordPath(id);
    const notFound = () => new FanoutError('command-not-found', `No command "${id}" in ${this.root}.`);
    await this.prepare();
    return this.queue.run(id, () =>
      withFileLock(`${path}.lock`, async () => {
        const current = await readJsonFile<CommandRecord>(path);
        if (!current) throw notFound();
        const next: CommandRecord = { ...current, ...patch, id, updatedAt: new Date().toISOString() };
        const draft = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        try {
          await writeDurably(draft, next);
          await rename(draft, path);
        } finally {
          await rm(draft, { force: true });
        }
        await syncDirectory(this.dir);
        return next;
      }),
    );
  }

  /** Every record, oldest first. */
  async list(): Promise<CommandRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const records = await Promise.all(
      names
        .map((name) => /^(.+)\.json$/.exec(name)?.[1])
        .filter((id): id is string => id !== undefined && SAFE_ID.test(id))
        .map((id) => this.get(id)),
    );
    return records
      .filter((record): record is CommandRecord => record !== null)
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id));
  }

  private get dir(): string {
    return join(this.root, 'commands');
  }

  private recordPath(id: string): string {
    if (!SAFE_ID.test(id))
      throw new FanoutError('bad-id', `Invalid command id "${id}": use letters, digits, ".", "_" and "-".`);
    return join(this.dir, `${id}.json`);
  }

  /** Makes the command directories once per store, and makes their existence durable. */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await ensurePrivateDirectory(this.dir);
      await mkdir(join(this.dir, 'claims'), { recursive: true, mode: PRIVATE_DIR_MODE });
      await Promise.all([dirname(this.root), this.root, this.dir].map(syncDirectory));
    })().catch((error: unknown) => {
      this.ready = null;
      throw error;
    });
    return this.ready;
  }
}

/** The dedupe keys of a command, as marker file names: `delivery-<id>`, `comment-<owner>/<repo>/<commentId>`. */
export function commandKeys(command: CommandRecord): string[] {
  const owner = safeName(command.target.owner).toLowerCase();
  const repo = safeName(command.target.repo).toLowerCase();
  if (!Number.isSafeInteger(command.commentId) || command.commentId <= 0) {
    throw new FanoutError('bad-id', `Invalid comment id ${command.commentId}.`);
  }
  if (!SAFE_ID.test(command.id)) throw new FanoutError('bad-id', `Invalid command id "${command.id}".`);
  return [`delivery-${command.id}`, `comment-${owner}/${repo}/${command.commentId}`];
}

function safeName(name: string): string {
  if (!SAFE_NAME.test(name) || name === '.' || name === '..')
    throw new FanoutError('bad-id', `Invalid owner or repository name "${name}".`);
  return name;
}

/** The same delivery of the same comment: a redelivery or a concurrent duplicate, which may complete a claim. */
function sameCommand(a: CommandRecord, b: CommandRecord): boolean {
  const [aDelivery, aComment] = commandKeys(a);
  const [bDelivery, bComment] = commandKeys(b);
  return aDelivery === bDelivery && aComment === bComment;
}

/** Makes a marker's missing directories, noting the directories whose entries changed (to sync). */
async function makeParents(marker: string, touched: Set<string>): Promise<void> {
  const first = await mkdir(dirname(marker), { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  for (let dir = dirname(marker); ; dir = dirname(dir)) {
    touched.add(dirname(dir));
    if (dir === first || dir === dirname(dir)) return;
  }
}

/** Creates `target` as a hard link to `source`; false when it exists. */
async function claim(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Writes pretty JSON to a new 0600 file and flushes it to the disk. */
async function writeDurably(path: string, value: unknown): Promise<void> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Per directory: the flush under way, and the one that will follow it.
const flushes = new Map<string, { running: Promise<void>; next: Promise<void> | null }>();

/**
 * Flushes a directory's entries (a new or renamed file is durable only once its directory is).
 * Concurrent callers share flushes (group commit): a flush already under way may have started
 * before the caller's change, so the caller waits for the next one, which all later callers share.
 * Fifty commands arriving at once cost a few flushes, not fifty.
 */
function syncDirectory(path: string): Promise<void> {
  const state = flushes.get(path);
  if (!state) {
    const running = flushDirectory(path).finally(() => settle(path));
    flushes.set(path, { running, next: null });
    return running;
  }
  state.next ??= state.running.catch(() => undefined).then(() => flushDirectory(path));
  return state.next;
}

function settle(path: string): void {
  const state = flushes.get(path);
  if (!state?.next) {
    flushes.delete(path);
    return;
  }
  const running = state.next.finally(() => settle(path));
  flushes.set(path, { running, next: null });
}

async function flushDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
