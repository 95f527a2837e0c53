import { FanoutError } from '../domain/errors.js';
import { runNoted } from '../domain/run-transitions.js';
import type { RunRecord } from '../domain/run.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** The stored run, or a `run-not-found` error that says how to list them. */
export async function requireRun(deps: Pick<PipelineDeps, 'store'>, runId: string): Promise<RunRecord> {
  const run = await deps.store.getRun(runId);
  if (!run) throw new FanoutError('run-not-found', `No run "${runId}". \`fanout status\` lists the runs.`);
  return run;
}

/** Adds a note people should read in the run's report. */
export async function addNote(deps: Pick<PipelineDeps, 'store'>, run: RunRecord, note: string): Promise<RunRecord> {
  return deps.store.updateRun(run.id, runNoted(run, note));
}
