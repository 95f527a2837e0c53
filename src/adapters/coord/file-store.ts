import type { AgentEventType } from '../../domain/failure.js';
import { EventEmitter } from 'node:events';
import { constants, watch as watchDirectory, type FSWatcher } from 'node:fs';
import { access, open, readdir, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRecord } from '../../domain/command.js';
import { FanoutError } from '../../domain/errors.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore, StoreChange } from '../../ports/coord-store.js';
import {
  ensurePrivateDirectory,
  makePrivateDirectory,
  PRIVATE_FILE_MODE,
  readJsonFile as readJson,
  writeJsonFile as writeAtomic,
} from '../json-file.js';
import { KeyedQueue, withFileLock } from '../file-lock.js';
import { FileCommandLog } from './file-commands.js';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TAIL_BYTES = 64 * 1024;

/**
 * The CoordStore on plain files, one directory per run: `run.json`, `subtask.<id>.json` (pretty
 * JSON, replaced atomically) and `events.<agent>.jsonl` (one event a line). The event log is the
 * truth for sequence numbers: the next seq is read from its last line under a lock, so writers in
 * several processes never share or skip a number, and a crash cannot desynchronize a counter.
 * Webhook commands live under `commands/` (see FileCommandLog): durable and deduplicated.
 */
export class FileCoordStore implements CoordStore {
  private readonly emitter = new EventEmitter();
  private readonly queue = new KeyedQueue();
  private readonly watchers = new Map<string, { watcher: FSWatcher; users: number }>();
  private readonly commands: FileCommandLog;

  constructor(private readonly root: string) {
    this.emitter.setMaxListeners(0);
    this.commands = new FileCommandLog(root);
  }

  async createRun(run: RunRecord): Promise<void> {
    const dir = this.runDir(run.id);
    // Private: records and logs can hold what a model or an endpoint said.
    await ensurePrivateDirectory(dir);
    await this.queue.run(`run:${run.id}`, () => writeAtomic(join(dir, 'run.json'), run));
    this.notify({ kind: 'run', runId: run.id });
  }

  /** The state directory can be listed and written (made when missing, as the first write would). */
  async ping(): Promise<void> {
    await makePrivateDirectory(this.root);
    await access(this.root, constants.R_OK | constants.W_OK);
    await readdir(this.root);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return readJson<RunRecord>(join(this.runDir(runId), 'run.json'));
  }

  async listRuns(): Promise<RunRecord[]> {
    const names = await readdir(join(this.root, 'runs')).catch(() => [] as string[]);
    const runs = await Promise.all(names.filter((name) => SAFE_ID.test(name)).map((name) => this.getRun(name)));
    return runs.filter((run): run is RunRecord => run !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async updateRun(runId: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<RunRecord> {
    const path = join(this.runDir(runId), 'run.json');
    const notFound = () => new FanoutError('run-not-found', `No run "${runId}" in ${this.root}.`);
    const updated = await this.locked(`run:${runId}`, `${path}.lock`, notFound, async () => {
      const current = await readJson<RunRecord>(path);
      if (!current) throw notFound();
      const next = { ...current, ...patch, id: runId, updatedAt: new Date().toISOString() };
      await writeAtomic(path, next);
      return next;
    });
    this.notify({ kind: 'run', runId });
    return updated;
  }

  async putSubtask(record: SubtaskRecord): Promise<void> {
    const path = this.subtaskPath(record.runId, record.subtaskId);
    await makePrivateDirectory(this.runDir(record.runId));
    await this.locked(`subtask:${record.runId}:${record.subtaskId}`, `${path}.lock`, null, () =>
      writeAtomic(path, record),
    );
    this.notify({ kind: 'subtask', runId: record.runId, subtaskId: record.subtaskId });
  }

  async getSubtask(runId: string, subtaskId: string): Promise<SubtaskRecord | null> {
    return readJson<SubtaskRecord>(this.subtaskPath(runId, subtaskId));
  }

  async listSubtasks(runId: string): Promise<SubtaskRecord[]> {
    const names = await readdir(this.runDir(runId)).catch(() => [] as string[]);
    const records = await Promise.all(
      names
        .filter((name) => /^subtask\..+\.json$/.test(name))
        .map((name) => readJson<SubtaskRecord>(join(this.runDir(runId), name))),
    );
    return records.filter((record): record is SubtaskRecord => record !== null);
  }

  async updateSubtask(
    runId: string,
    subtaskId: string,
    patch: Partial<Omit<SubtaskRecord, 'runId' | 'subtaskId'>>,
  ): Promise<SubtaskRecord> {
    const path = this.subtaskPath(runId, subtaskId);
    const notFound = () => new FanoutError('subtask-not-found', `No subtask "${subtaskId}" in run "${runId}".`);
    const updated = await this.locked(`subtask:${runId}:${subtaskId}`, `${path}.lock`, notFound, async () => {
      const current = await readJson<SubtaskRecord>(path);
      if (!current) throw notFound();
      const next = { ...current, ...patch, runId, subtaskId, updatedAt: new Date().toISOString() };
      await writeAtomic(path, next);
      return next;
    });
    this.notify({ kind: 'subtask', runId, subtaskId });
    return updated;
  }

  async appendEvent(
    runId: string,
    agentId: string,
    event: { type: AgentEventType; data?: Record<string, unknown> },
  ): Promise<AgentEvent> {
    const path = this.eventsPath(runId, agentId);
    await makePrivateDirectory(this.runDir(runId));
    const stored = await this.locked(`events:${runId}:${agentId}`, `${path}.lock`, null, async () => {
      const seq = (await lastSeq(path)) + 1;
      const entry: AgentEvent = { seq, at: new Date().toISOString(), type: event.type, data: event.data ?? {} };
      await appendPrivate(path, `${JSON.stringify(entry)}\n`);
      return entry;
    });
    this.notify({ kind: 'event', runId, agentId, seq: stored.seq });
    return stored;
  }

  async readEvents(runId: string, agentId: string, afterSeq = 0): Promise<AgentEvent[]> {
    const text = await readFile(this.eventsPath(runId, agentId), 'utf8').catch(() => '');
    const events: AgentEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const event = JSON.parse(line) as AgentEvent;
        if (event.seq > afterSeq) events.push(event);
      } catch {
        // A torn last line from a crashed writer; the next append repairs it.
      }
    }
    return events;
  }

  watch(runId: string, listener: (change: StoreChange) => void): () => void {
    const channel = `run:${runId}`;
    this.emitter.on(channel, listener);
    this.watchDirectory(runId);
    return () => {
      this.emitter.off(channel, listener);
      this.unwatchDirectory(runId);
    };
  }

  recordCommand(command: CommandRecord): Promise<boolean> {
    return this.commands.record(command);
  }

  getCommand(id: string): Promise<CommandRecord | null> {
    return this.commands.get(id);
  }

  updateCommand(id: string, patch: Partial<Omit<CommandRecord, 'id'>>): Promise<CommandRecord> {
    return this.commands.update(id, patch);
  }

  listCommands(): Promise<CommandRecord[]> {
    return this.commands.list();
  }

  async close(): Promise<void> {
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.emitter.removeAllListeners();
  }

  private notify(change: StoreChange): void {
    this.emitter.emit(`run:${change.runId}`, change);
  }

  /** Writers in other processes are seen through the directory watcher (inotify), not by polling. */
  private watchDirectory(runId: string): void {
    const existing = this.watchers.get(runId);
    if (existing) {
      existing.users += 1;
      return;
    }
    try {
      const watcher = watchDirectory(this.runDir(runId), (_type, name) => {
        const change = changeFromFileName(runId, name === null ? '' : String(name));
        if (change) this.notify(change);
      });
      watcher.on('error', () => undefined);
      this.watchers.set(runId, { watcher, users: 1 });
    } catch {
      // The run directory does not exist yet: only this process's writes will be seen.
    }
  }

  private unwatchDirectory(runId: string): void {
    const existing = this.watchers.get(runId);
    if (!existing) return;
    existing.users -= 1;
    if (existing.users > 0) return;
    existing.watcher.close();
    this.watchers.delete(runId);
  }

  /**
   * Runs `fn` under the record's lock. The lock file cannot be made in a run directory that does
   * not exist: with `missing`, that becomes the caller's not-found error.
   */
  private async locked<T>(
    key: string,
    lockPath: string,
    missing: (() => Error) | null,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await this.queue.run(key, () => withFileLock(lockPath, fn));
    } catch (error) {
      if (missing && (error as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
      throw error;
    }
  }

  private runDir(runId: string): string {
    return join(this.root, 'runs', safeId(runId, 'run id'));
  }

  private subtaskPath(runId: string, subtaskId: string): string {
    return join(this.runDir(runId), `subtask.${safeId(subtaskId, 'subtask id')}.json`);
  }

  private eventsPath(runId: string, agentId: string): string {
    return join(this.runDir(runId), `events.${safeId(agentId, 'agent id')}.jsonl`);
  }
}

function changeFromFileName(runId: string, name: string): StoreChange | null {
  if (name === 'run.json') return { kind: 'run', runId };
  const subtask = /^subtask\.(.+)\.json$/.exec(name);
  if (subtask) return { kind: 'subtask', runId, subtaskId: subtask[1] as string };
  const events = /^events\.(.+)\.jsonl$/.exec(name);
  if (events) return { kind: 'event', runId, agentId: events[1] as string, seq: -1 };
  return null;
}

function safeId(id: string, what: string): string {
  if (!SAFE_ID.test(id))
    throw new FanoutError('bad-id', `Invalid ${what} "${id}": use letters, digits, ".", "_" and "-".`);
  return id;
}

/** Appends to a log that is 0600 exactly, also when an older Fanout left it readable by others. */
async function appendPrivate(path: string, text: string): Promise<void> {
  const handle = await open(path, 'a', PRIVATE_FILE_MODE);
  try {
    if (((await handle.stat()).mode & 0o777) !== PRIVATE_FILE_MODE) await handle.chmod(PRIVATE_FILE_MODE);
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}

/** The seq of the last complete event line; a torn final line (crash mid-append) is cut off first. */
async function lastSeq(path: string): Promise<number> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    let text = buffer.toString('utf8');
    if (!text.endsWith('\n')) {
      const cut = text.lastIndexOf('\n');
      await truncate(path, size - (text.length - (cut + 1)));
      text = text.slice(0, cut + 1);
    }
    const lines = text.split('\n').filter(Boolean);
    const last = lines[lines.length - 1];
    return last ? (JSON.parse(last) as AgentEvent).seq : 0;
  } finally {
    await handle.close();
  }
}
