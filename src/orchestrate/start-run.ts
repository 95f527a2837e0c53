import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { RepoConfig } from '../config/repo-config.js';
import type { AgentBackendName } from '../domain/agent-backend.js';
import { FanoutError } from '../domain/errors.js';
import type { RunOrigin, RunRecord } from '../domain/run.js';
import type { PipelineDeps } from './pipeline-deps.js';

export interface StartRunOptions {
  repoDir: string;
  /** Where the run came from; a local run's origin is its repository. */
  origin?: RunOrigin;
  task: string;
  config: RepoConfig;
  baseBranch?: string;
  /** The base commit, when the caller fetched it (GitHub); otherwise the base branch's tip. */
  baseCommit?: string;
  hints?: string;
  /** The agent backend for this run (`--agent`), over the repository's `agent:`. */
  agent?: AgentBackendName;
}

/** A sortable, readable run id: `20261124-224455-3fa9`. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Records a new run against the base branch's current commit; `executeRun` does the work. */
export async function startRun(
  deps: Pick<PipelineDeps, 'workspace' | 'store'>,
  options: StartRunOptions,
): Promise<RunRecord> {
  const repo = resolve(options.repoDir);
  const baseBranch = options.baseBranch ?? (await deps.workspace.currentBranch(repo));
  if (!baseBranch)
    throw new FanoutError(
      'no-base-branch',
      `${repo} has a detached HEAD; pass --base BRANCH to say where results should merge.`,
    );
  const baseCommit = options.baseCommit ?? (await deps.workspace.resolveCommit(repo, `refs/heads/${baseBranch}`));
  const now = new Date().toISOString();
  const chosen = chooseAgent(options.config, options.agent);
  const run: RunRecord = {
    id: newRunId(),
    repo,
    task: options.task,
    baseBranch,
    baseCommit,
    origin: options.origin ?? { kind: 'local', path: repo },
    state: 'planning',
    // Recorded in the run's config, so resumes, workers and fix attempts use the same backend.
    config: chosen.config,
    ...(options.hints ? { hints: options.hints } : {}),
    notes: chosen.note ? [chosen.note] : [],
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.createRun(run);
  return run;
}

/**
 * The repository's config with the run's own backend in it. A model configured for another
 * backend is dropped (it names a model of another API); the backend's own default applies.
 */
function chooseAgent(config: RepoConfig, agent: AgentBackendName | undefined): { config: RepoConfig; note?: string } {
  const configured = config.agent;
  if (agent === undefined || agent === configured.backend) return { config };
  const dropped = configured.model ? ` (and its model ${configured.model})` : '';
  return {
    config: { ...config, agent: { backend: agent } },
    note: `Agents: ${agent}, chosen for this run over ${configured.backend}${dropped} from .github/fanout.yml.`,
  };
}
