import { EventEmitter } from 'node:events';
import { FanoutError } from '../../domain/errors.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../../domain/run.js';
import type { CoordStore, StoreChange } from '../../ports/coord-store.js';

/** An in-memory CoordStore: the test double, held to the same contract tests as the real backends. */
export class MemoryCoordStore implements CoordStore {
  private readonly runs = new Map<string, RunRecord>();
  private readonly subtasks = new Map<string, SubtaskRecord>();
  private readonly events = new Map<string, AgentEvent[]>();
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
    return [...this.runs.values()].map((run) => structuredClone(run)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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
    return [...this.subtasks.values()].filter((record) => record.runId === runId).map((record) => structuredClone(record));
  }

  async updateSubtask(runId: string, subtaskId: string, patch: Partial<Omit<SubtaskRecord, 'runId' | 'subtaskId'>>): Promise<SubtaskRecord> {
    const current = this.subtasks.get(`${runId}/${subtaskId}`);
    if (!current) throw new FanoutError('subtask-not-found', `No subtask "${subtaskId}" in run "${runId}".`);
    const next = { ...current, ...structuredClone(patch), runId, subtaskId, updatedAt: new Date().toISOString() };
    this.subtasks.set(`${runId}/${subtaskId}`, next);
    this.notify({ kind: 'subtask', runId, subtaskId });
    return structuredClone(next);
  }

  async appendEvent(runId: string, agentId: string, event: { type: string; data?: Record<string, unknown> }): Promise<AgentEvent> {
    const key = `${runId}/${agentId}`;
    const log = this.events.get(key) ?? [];
    const entry: AgentEvent = { seq: log.length + 1, at: new Date().toISOString(), type: event.type, data: structuredClone(event.data ?? {}) };
    log.push(entry);
    this.events.set(key, log);
    this.notify({ kind: 'event', runId, agentId, seq: entry.seq });
    return structuredClone(entry);
  }

  async readEvents(runId: string, agentId: string, afterSeq = 0): Promise<AgentEvent[]> {
    return (this.events.get(`${runId}/${agentId}`) ?? []).filter((event) => event.seq > afterSeq).map((event) => structuredClone(event));
  }

  watch(runId: string, listener: (change: StoreChange) => void): () => void {
    this.emitter.on(runId, listener);
    return () => this.emitter.off(runId, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }

  private notify(change: StoreChange): void {
    this.emitter.emit(change.runId, change);
  }
}
