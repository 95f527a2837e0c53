import type { RunSubtaskInput } from '../agent/run-subtask.js';
import type { RunRecord } from '../domain/run.js';
import type { AgentBackend } from '../ports/agent-backend.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** The model an agent asks for: the repository's `agent: { model }`, else its backend's own, else the run's. */
export function agentModel(run: RunRecord, backend: AgentBackend, deps: Pick<PipelineDeps, 'llm'>): string {
  return (run.config as Partial<RunRecord['config']>).agent?.model ?? backend.defaultModel ?? deps.llm.model;
}

/**
 * Each attempt's access to its model through the gateway, when the deployment has one: a
 * credential of its own, charged to the subtask's attempt (`attemptNumber` maps the attempt of
 * this job to the subtask's count) and priced by the repository's `prices:`.
 */
export function modelAccessFor(
  deps: Pick<PipelineDeps, 'modelGrants' | 'llm'>,
  run: RunRecord,
  subtaskId: string,
  backend: AgentBackend,
  attemptNumber: (attempt: number) => number,
): Pick<RunSubtaskInput, 'modelAccess'> {
  const grants = deps.modelGrants;
  if (!grants) return {};
  const model = agentModel(run, backend, deps);
  return {
    modelAccess: (attempt, hooks) =>
      grants.grant({ runId: run.id, subtaskId, attempt: attemptNumber(attempt), model, ...hooks }),
  };
}
