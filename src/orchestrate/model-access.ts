import type { AgentLimits } from '../agent/limits.js';
import type { RunSubtaskInput } from '../agent/run-subtask.js';
import { spendBudgets } from '../domain/run-budgets.js';
import type { RunRecord } from '../domain/run.js';
import type { AgentBackend } from '../ports/agent-backend.js';
import type { PipelineDeps } from './pipeline-deps.js';

/** The model an agent asks for: the repository's `agent: { model }`, else its backend's own, else the run's. */
export function agentModel(run: RunRecord, backend: AgentBackend, deps: Pick<PipelineDeps, 'llm'>): string {
  return (run.config as Partial<RunRecord['config']>).agent?.model ?? backend.defaultModel ?? deps.llm.model;
}

/**
 * Each attempt's access to its model through the gateway, when the deployment has one: a
 * credential of its own (`attemptNumber` maps the attempt of this job to the subtask's count),
 * held to the repository's `budgets:` (charged to the subtask, so retries and fix attempts count)
 * and `runBudgets:`, and priced by its `prices:`.
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
  const budget = spendBudgets(run.config);
  const prices = (run.config as Partial<RunRecord['config']>).prices;
  return {
    modelAccess: (attempt, hooks) =>
      grants.grant({
        runId: run.id,
        subtaskId,
        attempt: attemptNumber(attempt),
        model,
        budget,
        ...(prices && Object.keys(prices).length > 0 ? { prices } : {}),
        ...hooks,
      }),
  };
}

/**
 * An agent's limits where the gateway holds its token budget: the gateway counts the whole
 * subtask (every attempt and fix) and refuses the call past it, naming the figure, so the agent's
 * own per-attempt count must not stop it first (and be retried as if it had budget left).
 */
export function limitsWithGateway(deps: Pick<PipelineDeps, 'modelGrants'>, limits: AgentLimits): AgentLimits {
  return deps.modelGrants ? { ...limits, maxTokens: Number.POSITIVE_INFINITY } : limits;
}
