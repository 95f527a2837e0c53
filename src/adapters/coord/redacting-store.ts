import type { SecretRedactor } from '../../domain/redactor.js';
import type { CoordStore } from '../../ports/coord-store.js';

/**
 * A CoordStore that redacts secrets from every record, patch and event before the store underneath
 * writes it; reads, watches and close pass straight through. What is stored is what anyone with
 * the state directory (or, later, the Redis instance) can read, so nothing secret gets there.
 * Ids are addresses, not content: they pass unchanged, so a record is always stored where asked.
 * A command's target (owner, repository, installation, URLs) is an address too, and its dedupe key.
 */
export function redactingStore(store: CoordStore, redactor: SecretRedactor): CoordStore {
  return {
    createRun: (run) => store.createRun({ ...redactor.deep(run), id: run.id }),
    getRun: (runId) => store.getRun(runId),
    listRuns: () => store.listRuns(),
    updateRun: (runId, patch) => store.updateRun(runId, redactor.deep(patch)),
    putSubtask: (record) =>
      store.putSubtask({ ...redactor.deep(record), runId: record.runId, subtaskId: record.subtaskId }),
    getSubtask: (runId, subtaskId) => store.getSubtask(runId, subtaskId),
    listSubtasks: (runId) => store.listSubtasks(runId),
    updateSubtask: (runId, subtaskId, patch) => store.updateSubtask(runId, subtaskId, redactor.deep(patch)),
    appendEvent: (runId, agentId, event) => store.appendEvent(runId, agentId, redactor.deep(event)),
    readEvents: (runId, agentId, afterSeq) => store.readEvents(runId, agentId, afterSeq),
    recordCommand: (command) =>
      store.recordCommand({ ...redactor.deep(command), id: command.id, target: command.target }),
    getCommand: (id) => store.getCommand(id),
    updateCommand: (id, patch) =>
      store.updateCommand(id, { ...redactor.deep(patch), ...(patch.target ? { target: patch.target } : {}) }),
    listCommands: () => store.listCommands(),
    watch: (runId, listener) => store.watch(runId, listener),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
