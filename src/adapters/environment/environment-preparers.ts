import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { RepoConfig } from '../../config/repo-config.js';
import type { PreparationContext } from '../../ports/environment.js';
import type { Worktree } from '../../ports/workspace.js';
import { WorktreePreparer, type PreparationResult, type WorktreePreparerOptions } from './prepare-worktree.js';

export type { PreparationContext } from '../../ports/environment.js';

const KEPT = 16;

/**
 * The composition root's one object for prepared environments: a preparer per repository, run
 * base and configuration, made on first use (they remember trees of the commits they saw).
 */
export class EnvironmentPreparers {
  private readonly preparers = new Map<string, WorktreePreparer>();

  /** `cacheDir`: where every repository's prepared environments go (under Fanout's state directory). */
  constructor(private readonly shared: Omit<WorktreePreparerOptions, 'repoDir' | 'config' | 'trustedCommit'>) {}

  /** Prepares a worktree of `worktree.repoDir` for `config` (see WorktreePreparer.prepare). */
  prepare(
    worktree: Worktree,
    config: Pick<RepoConfig, 'setup' | 'copy' | 'network'> & Partial<Pick<RepoConfig, 'networkAllow' | 'limits'>>,
    context: PreparationContext,
  ): Promise<PreparationResult> {
    const key = JSON.stringify([
      worktree.repoDir,
      context.trustedCommit,
      config.setup ?? null,
      config.copy,
      config.network,
      config.networkAllow ?? [],
      config.limits ?? null,
    ]);
    let preparer = this.preparers.get(key);
    if (!preparer) {
      // One cache directory per repository, so one busy repository does not evict another's entries.
      const cacheDir = join(
        this.shared.cacheDir,
        createHash('sha256').update(worktree.repoDir).digest('hex').slice(0, 16),
      );
      preparer = new WorktreePreparer({
        ...this.shared,
        cacheDir,
        repoDir: worktree.repoDir,
        config,
        trustedCommit: context.trustedCommit,
      });
      this.preparers.set(key, preparer);
      // The oldest goes first: a long-lived App process sees many runs.
      if (this.preparers.size > KEPT) this.preparers.delete(this.preparers.keys().next().value as string);
    }
    return preparer.prepare(worktree, context.thorough ? { thorough: true } : {});
  }
}
