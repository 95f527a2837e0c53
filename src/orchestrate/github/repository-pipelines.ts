import type { RepoConfig } from '../../config/repo-config.js';
import type { GitHubTarget } from '../../domain/command.js';
import type { PipelineDeps } from '../pipeline-deps.js';

/** A GitHub repository opened for work: the pipeline's ports bound to it, and Fanout's clone of it. */
export interface OpenedRepository {
  deps: PipelineDeps;
  /** Fanout's own clone (created on first use, fetched per run); agents' worktrees come from it. */
  cloneDir: string;
}

/** Builds the ports for one repository with its installation's credentials (the composition root implements it). */
export interface RepositoryPipelines {
  /** `config` (once a run has read it) picks the model and the merge method; `signal` cancels the run's work. */
  open(target: GitHubTarget, options?: { signal?: AbortSignal; config?: RepoConfig }): Promise<OpenedRepository>;
}
