import type { AgentEventType } from '../domain/failure.js';
import type { CommandRecord } from '../domain/command.js';
import type { AgentEvent, RunRecord, SubtaskRecord } from '../domain/run.js';

/** What changed, for watchers. */
export type StoreChange =
  | { kind: 'run'; runId: string }
  | { kind: 'subtask'; runId: string; subtaskId: string }
  | { kind: 'event'; runId: string; agentId: string; seq: number };

/** Shared state of runs, subtasks and agent event logs (files by default, Redis for several machines). */
export interface CoordStore {
  createRun(run: RunRecord): Promise<void>;
  getRun(runId: string): Promise<RunRecord | null>;
  listRuns(): Promise<RunRecord[]>;
  /** Shallow-merges the patch and bumps updatedAt; throws when the run does not exist. */
  updateRun(runId: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<RunRecord>;
  putSubtask(record: SubtaskRecord): Promise<void>;
  getSubtask(runId: string, subtaskId: string): Promise<SubtaskRecord | null>;
  listSubtasks(runId: string): Promise<SubtaskRecord[]>;
  updateSubtask(
    runId: string,
    subtaskId: string,
    patch: Partial<Omit<SubtaskRecord, 'runId' | 'subtaskId'>>,
  ): Promise<SubtaskRecord>;
  /** Appends to the agent's log and returns the event with its sequence number (safe under concurrent writers). */
  appendEvent(
    runId: string,
    agentId: string,
    event: { type: AgentEventType; data?: Record<string, unknown> },
  ): Promise<AgentEvent>;
  /** Events with seq > afterSeq, in order. */
  readEvents(runId: string, agentId: string, afterSeq?: number): Promise<AgentEvent[]>;
  /** Calls the listener on every change to the run (from this process or, for shared backends, others); returns unsubscribe. */
  watch(runId: string, listener: (change: StoreChange) => void): () => void;
  /**
   * Stores a webhook command durably, unless its delivery id or its comment was seen before
   * (a redelivery, or the same comment edited): then nothing is stored and it returns false.
   */
  recordCommand(command: CommandRecord): Promise<boolean>;
  getCommand(id: string): Promise<CommandRecord | null>;
  updateCommand(id: string, patch: Partial<Omit<CommandRecord, 'id'>>): Promise<CommandRecord>;
  /** Every stored command, oldest first (a restart processes those still `received`). */
  listCommands(): Promise<CommandRecord[]>;
  /** Resolves when the store answers (a cheap round trip, for health checks); rejects when it is down. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
