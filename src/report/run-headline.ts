import { agentBackendOf, type RunRecord } from '../domain/run.js';

/**
 * A run's first line: the run, its repository and base, the agent backend its subtasks run with,
 * and the model that plans when this process plans (`planner`: "model (provider)").
 */
export function runHeadline(run: RunRecord, planner?: string): string {
  const where = `Run ${run.id} on ${run.repo} (${run.baseBranch} at ${run.baseCommit.slice(0, 8)})`;
  return `${where}: ${agentBackendOf(run)} agents${planner ? `, planned by ${planner}` : ''}`;
}
