import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CommandRecord } from '../../domain/command.js';
import { FanoutError, type FanoutErrorCode } from '../../domain/errors.js';
import type { AgentEventType } from '../../domain/failure.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore, StoreChange } from '../../ports/coord-store.js';

// Replaces a value only if it is still the one read: updates from several machines never lose
// each other's fields (the caller reads, merges and tries again).
const SET_IF_UNCHANGED = `
local current = KEYS[2] ~= '' and redis.call('HGET', KEYS[1], KEYS[2]) or redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return 0 end
if KEYS[2] ~= '' then redis.call('HSET', KEYS[1], KEYS[2], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1`;

// A command is stored only if neither its delivery id nor its comment was claimed before.
const RECORD_COMMAND = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
return 1`;

// The next event number and the event in one step: gapless and ordered under concurrent writers.
const APPEND_EVENT = `
local seq = redis.call('INCR', KEYS[1])
local entry = string.gsub(ARGV[1], '"seq":0', '"seq":' .. seq, 1)
redis.call('ZADD', KEYS[2], seq, entry)
return {seq, entry}`;

const MAX_UPDATE_TRIES = 50;

/**
 * The coordination store on Redis, for Fanout on several machines (`REDIS_URL`). Every key starts
 * with the prefix, so deployments and tests can share one Redis. Records are JSON values; updates
 * are compare-and-set; event numbers come from `INCR` inside the same script as the event; watchers
 * are woken by pub/sub, from this process or any other.
 */
export class RedisCoordStore implements CoordStore {
  private readonly redis: Redis;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<(change: StoreChange) => void>>();
  // Changes this instance makes reach its own watchers at once; pub/sub brings everyone else's.
  private readonly origin = randomUUID();

  constructor(
    url: string,
    private readonly prefix = 'fanout',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
    // ioredis reconnects by itself; a failed command rejects where it was made.
    this.redis.on('error', () => undefined);
  }

  async createRun(run: RunRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.key('run', run.id), JSON.stringify(run))
      .zadd(this.key('runs'), Date.parse(run.createdAt) || 0, run.id)
      .exec();
    await this.notify({ kind: 'run', runId: run.id });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return parse<RunRecord>(await this.redis.get(this.key('run', runId)));
  }

  async listRuns(): Promise<RunRecord[]> {
    const ids = await this.redis.zrange(this.key('runs'), 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.key('run', id)));
    return values
      .flatMap((value) => parse<RunRecord>(value) ?? [])
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async updateRun(runId: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<RunRecord> {
    const next = await this.update<RunRecord>(
      this.key('run', runId),
      '',
      'run-not-found',
      `No run "${runId}".`,
      (current) => ({
        ...current,
        ...patch,
        id: runId,
        updatedAt: new Date().toISOString(),
      }),
    );
    await this.notify({ kind: 'run', runId });
    return next;
  }

  async putSubtask(record: SubtaskRecord): Promise<void> {
    await this.redis.hset(this.key('subtasks', record.runId), record.subtaskId, JSON.stringify(record));
    await this.notify({ kind: 'subtask', runId: record.runId, subtaskId: record.subtaskId });
  }

  async getSubtask(runId: string, subtaskId: string): Promise<SubtaskRecord | null> {
    return parse<SubtaskRecord>(await this.redis.hget(this.key('subtasks', runId), subtaskId));
  }

  async listSubtasks(runId: string): Promise<SubtaskRecord[]> {
    const values = await this.redis.hvals(this.key('subtasks', runId));
    return values.flatMap((value) => parse<SubtaskRecord>(value) ?? []);
  }

  async updateSubtask(
    runId: string,
    subtaskId: string,
    patch: Partial<Omit<SubtaskRecord, 'runId' | 'subtaskId'>>,
  ): Promise<SubtaskRecord> {
    const message = `No subtask "${subtaskId}" in run "${runId}".`;
    const next = await this.update<SubtaskRecord>(
      this.key('subtasks', runId),
      subtaskId,
      'subtask-not-found',
      message,
      (current) => ({
        ...current,
        ...patch,
        runId,
        subtaskId,
        updatedAt: new Date().toISOString(),
      }),
    );
    await this.notify({ kind: 'subtask', runId, subtaskId });
    return next;
  }

  async appendEvent(
    runId: string,
    agentId: string,
    event: { type: AgentEventType; data?: Record<string, unknown> },
  ): Promise<AgentEvent> {
    // `seq` is written first, as 0, so the script can put the real number in without parsing JSON.
    const draft = JSON.stringify({ seq: 0, at: new Date().toISOString(), type: event.type, data: event.data ?? {} });
    const [seq, entry] = (await this.redis.eval(
      APPEND_EVENT,
      2,
      this.key('seq', runId, agentId),
      this.key('events', runId, agentId),
      draft,
    )) as [number, string];
    await this.notify({ kind: 'event', runId, agentId, seq });
    return JSON.parse(entry) as AgentEvent;
  }

  async readEvents(runId: string, agentId: string, afterSeq = 0): Promise<AgentEvent[]> {
    const values = await this.redis.zrangebyscore(this.key('events', runId, agentId), `(${afterSeq}`, '+inf');
    return values.map((value) => JSON.parse(value) as AgentEvent);
  }

  watch(runId: string, listener: (change: StoreChange) => void): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
      void this.subscriberConnection().subscribe(this.key('changes', runId));
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      current?.delete(listener);
      if (current && current.size === 0) {
        this.listeners.delete(runId);
        void this.subscriber?.unsubscribe(this.key('changes', runId));
      }
    };
  }

  async recordCommand(command: CommandRecord): Promise<boolean> {
    const { owner, repo } = command.target;
    const keys = [
      this.key('claim', 'delivery', command.id),
      this.key('claim', 'comment', owner.toLowerCase(), repo.toLowerCase(), String(command.commentId)),
      this.key('command', command.id),
      this.key('commands'),
    ];
    const stored = await this.redis.eval(
      RECORD_COMMAND,
      keys.length,
      ...keys,
      command.id,
      JSON.stringify(command),
      Date.parse(command.receivedAt) || 0,
    );
    return stored === 1;
  }

  async getCommand(id: string): Promise<CommandRecord | null> {
    return parse<CommandRecord>(await this.redis.get(this.key('command', id)));
  }

  async updateCommand(id: string, patch: Partial<Omit<CommandRecord, 'id'>>): Promise<CommandRecord> {
    return this.update<CommandRecord>(
      this.key('command', id),
      '',
      'command-not-found',
      `No command "${id}".`,
      (current) => ({
        ...current,
        ...patch,
        id,
        updatedAt: new Date().toISOString(),
      }),
    );
  }

  async listCommands(): Promise<CommandRecord[]> {
    const ids = await this.redis.zrange(this.key('commands'), 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.key('command', id)));
    return values
      .flatMap((value) => parse<CommandRecord>(value) ?? [])
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id));
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([this.redis.quit(), this.subscriber?.quit()]);
  }

  /** Read, merge, compare-and-set; again when another writer got there first. */
  private async update<T>(
    key: string,
    field: string,
    code: FanoutErrorCode,
    missing: string,
    merge: (current: T) => T,
  ): Promise<T> {
    for (let attempt = 0; attempt < MAX_UPDATE_TRIES; attempt += 1) {
      const raw = field ? await this.redis.hget(key, field) : await this.redis.get(key);
      if (raw === null) throw new FanoutError(code, missing);
      // Through JSON, as stored: a field set to undefined is gone, as in the other stores.
      const next = JSON.parse(JSON.stringify(merge(JSON.parse(raw) as T))) as T;
      if ((await this.redis.eval(SET_IF_UNCHANGED, 2, key, field, raw, JSON.stringify(next))) === 1) return next;
    }
    throw new FanoutError(code, `${missing.replace(/^No /, 'Could not update ')} (too many concurrent writers)`);
  }

  private async notify(change: StoreChange): Promise<void> {
    for (const listener of this.listeners.get(change.runId) ?? []) listener(change);
    await this.redis.publish(this.key('changes', change.runId), JSON.stringify({ origin: this.origin, change }));
  }

  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', () => undefined);
      this.subscriber.on('message', (channel: string, message: string) => {
        const { origin, change } = JSON.parse(message) as { origin: string; change: StoreChange };
        if (origin === this.origin) return;
        const runId = channel.slice(this.key('changes', '').length);
        for (const listener of this.listeners.get(runId) ?? []) listener(change);
      });
    }
    return this.subscriber;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }
}

function parse<T>(value: string | null | undefined): T | null {
  return value === null || value === undefined ? null : (JSON.parse(value) as T);
}
