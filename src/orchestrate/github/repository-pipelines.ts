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
  open(target: GitHubTarget, signal?: AbortSignal): Promise<OpenedRepository>;
}
