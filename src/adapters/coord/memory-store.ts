import type { AgentEventType } from '../../domain/failure.js';
import { EventEmitter } from 'node:events';
import type { CommandRecord } from '../../domain/command.js';
import { FanoutError } from '../../domain/errors.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore, StoreChange } from '../../ports/coord-store.js';

/** An in-memory CoordStore: the test double, held to the same contract tests as the real backends. */
export class MemoryCoordStore implements CoordStore {
  private readonly runs = new Map<string, RunRecord>();
  private readonly subtasks = new Map<string, SubtaskRecord>();
  private readonly events = new Map<string, AgentEvent[]>();
  private readonly commands = new Map<string, CommandRecord>();
  // Dedupe keys claimed so far: `delivery-<id>` and `comment-<owner>/<repo>/<commentId>`.
  private readonly claimed = new Set<string>();
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async createRun(run: RunRecord): Promise<void> {
    this.runs.set(run.id, structuredClone(run));
    this.notify({ kind: 'run', runId: run.id });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const run = this.runs.get(runId);
    return run ? structuredClone(run) : null;
  }

  async listRuns(): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .map((run) => structuredClone(run))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async updateRun(runId: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<RunRecord> {
    const current = this.runs.get(runId);
    if (!current) throw new FanoutError('run-not-found', `No run "${runId}".`);
    const next = { ...current, ...structuredClone(patch), id: runId, updatedAt: new Date().toISOString() };
    this.runs.set(runId, next);
    this.notify({ kind: 'run', runId });
    return structuredClone(next);
  }

  async putSubtask(record: SubtaskRecord): Promise<void> {
    this.subtasks.set(`${record.runId}/${record.subtaskId}`, structuredClone(record));
    this.notify({ kind: 'subtask', runId: record.runId, subtaskId: record.subtaskId });
  }

  async getSubtask(runId: string, subtaskId: string): Promise<SubtaskRecord | null> {
    const record = this.subtasks.get(`${runId}/${subtaskId}`);
    return record ? structuredClone(record) : null;
  }

  async listSubtasks(runId: string): Promise<SubtaskRecord[]> {
    return [...this.subtasks.values()]
      .filter((record) => record.runId === runId)
      .map((record) => structuredClone(record));
  }

  async updateSubtask(
    runId: string,
    subtaskId: string,
    patch: Partial<Omit<SubtaskRecord, 'runId' | 'subtaskId'>>,
  ): Promise<SubtaskRecord> {
    const current = this.subtasks.get(`${runId}/${subtaskId}`);
    if (!current) throw new FanoutError('subtask-not-found', `No subtask "${subtaskId}" in run "${runId}".`);
    const next = { ...current, ...structuredClone(patch), runId, subtaskId, updatedAt: new Date().toISOString() };
    this.subtasks.set(`${runId}/${subtaskId}`, next);
    this.notify({ kind: 'subtask', runId, subtaskId });
    return structuredClone(next);
  }

  async appendEvent(
    runId: string,
    agentId: string,
    event: { type: AgentEventType; data?: Record<string, unknown> },
  ): Promise<AgentEvent> {
    const key = `${runId}/${agentId}`;
    const log = this.events.get(key) ?? [];
    const entry: AgentEvent = {
      seq: log.length + 1,
      at: new Date().toISOString(),
      type: event.type,
      data: structuredClone(event.data ?? {}),
    };
    log.push(entry);
    this.events.set(key, log);
    this.notify({ kind: 'event', runId, agentId, seq: entry.seq });
    return structuredClone(entry);
  }

  async readEvents(runId: string, agentId: string, afterSeq = 0): Promise<AgentEvent[]> {
    return (this.events.get(`${runId}/${agentId}`) ?? [])
      .filter((event) => event.seq > afterSeq)
      .map((event) => structuredClone(event));
  }

  watch(runId: string, listener: (change: StoreChange) => void): () => void {
    this.emitter.on(runId, listener);
    return () => this.emitter.off(runId, listener);
  }

  async recordCommand(command: CommandRecord): Promise<boolean> {
    const keys = commandKeys(command);
    if (keys.some((key) => this.claimed.has(key))) return false;
    for (const key of keys) this.claimed.add(key);
    this.commands.set(command.id, structuredClone(command));
    return true;
  }

  async getCommand(id: string): Promise<CommandRecord | null> {
    const command = this.commands.get(id);
    return command ? structuredClone(command) : null;
  }

  async updateCommand(id: string, patch: Partial<Omit<CommandRecord, 'id'>>): Promise<CommandRecord> {
    const current = this.commands.get(id);
    if (!current) throw new FanoutError('command-not-found', `No command "${id}".`);
    const next = { ...current, ...structuredClone(patch), id, updatedAt: new Date().toISOString() };
    this.commands.set(id, next);
    return structuredClone(next);
  }

  async listCommands(): Promise<CommandRecord[]> {
    return [...this.commands.values()].map((command) => structuredClone(command)).sort(byReceipt);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }

  private notify(change: StoreChange): void {
    this.emitter.emit(change.runId, change);
  }
}

/** The dedupe keys of a command, named as the file store names its marker files. */
function commandKeys(command: CommandRecord): string[] {
  const { owner, repo } = command.target;
  return [`delivery-${command.id}`, `comment-${owner.toLowerCase()}/${repo.toLowerCase()}/${command.commentId}`];
}

function byReceipt(a: CommandRecord, b: CommandRecord): number {
  return a.receivedAt.localeCompare(b.receivedAt) || a.id.localeCompare(b.id);
}
