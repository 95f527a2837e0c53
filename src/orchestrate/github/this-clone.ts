import type { GitHubTarget } from '../../domain/command.js';
import type { RunRecord } from '../../domain/run.js';
import type { CoordStore } from '../../ports/coord-store.js';
import type { PipelineDeps } from '../pipeline-deps.js';

/**
 * The store as this process sees a GitHub repository's runs: their `repo` is this process's clone.
 * A run records the clone of the process that started it; on several machines each worker works
 * in its own clone (fetched from GitHub), so that path is not this one's.
 */
export function withThisClone(store: CoordStore, target: GitHubTarget, cloneDir: string): CoordStore {
  const local = (run: RunRecord): RunRecord =>
    run.origin.kind === 'github' &&
    run.origin.owner.toLowerCase() === target.owner.toLowerCase() &&
    run.origin.repo.toLowerCase() === target.repo.toLowerCase()
      ? { ...run, repo: cloneDir }
      : run;
  return {
    ...store,
    createRun: (run) => store.createRun(run),
    getRun: async (runId) => {
      const run = await store.getRun(runId);
      return run ? local(run) : null;
    },
    listRuns: async () => (await store.listRuns()).map(local),
    updateRun: async (runId, patch) => {
      const { repo: _repo, ...rest } = patch;
      return local(await store.updateRun(runId, rest));
    },
    putSubtask: (record) => store.putSubtask(record),
    getSubtask: (runId, subtaskId) => store.getSubtask(runId, subtaskId),
    listSubtasks: (runId) => store.listSubtasks(runId),
    updateSubtask: (runId, subtaskId, patch) => store.updateSubtask(runId, subtaskId, patch),
    appendEvent: (runId, agentId, event) => store.appendEvent(runId, agentId, event),
    readEvents: (runId, agentId, afterSeq) => store.readEvents(runId, agentId, afterSeq),
    recordCommand: (command) => store.recordCommand(command),
    getCommand: (id) => store.getCommand(id),
    updateCommand: (id, patch) => store.updateCommand(id, patch),
    listCommands: () => store.listCommands(),
    watch: (runId, listener) => store.watch(runId, listener),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}

/**
 * Makes sure this process's clone has `commit` (by default the run's base), fetching the base
 * branch, which holds it, when another machine made or fetched it first.
 */
export async function fetchRunBase(
  deps: Pick<PipelineDeps, 'workspace' | 'forge'>,
  run: RunRecord,
  commit = run.baseCommit,
): Promise<void> {
  const present = await deps.workspace.resolveCommit(run.repo, commit).then(
    () => true,
    () => false,
  );
  if (!present) await deps.forge.fetchBase(run.baseBranch);
}
