import { createHash } from 'node:crypto';
import { worktreePool } from '../agent/run-subtask.js';
import type { RunRecord } from '../domain/run.js';
import type { CommandCheck } from '../validate/run-validation.js';
import type { PipelineDeps } from './pipeline-deps.js';
import type { ProbeStorage } from './probe-cache.js';
import { validateIn } from './publish.js';

/** What the base commit's validation showed, remembered per base commit and configuration. */
export interface BaselineResult {
  /** The commands that failed on the base (by their `run` text), with what they printed. */
  failing: Array<Pick<CommandCheck, 'run' | 'exitCode' | 'timedOut' | 'durationMs' | 'outputTail'>>;
}

/** Baselines already measured (a JSON file in practice), so a second run on the same base pays nothing. */
export class BaselineCache {
  private readonly memory = new Map<string, BaselineResult>();

  constructor(private readonly storage?: ProbeStorage) {}

  async get(key: string): Promise<BaselineResult | null> {
    const known = this.memory.get(key);
    if (known) return known;
    const stored = ((await this.storage?.load()) ?? {}) as Record<string, BaselineResult>;
    return stored[key] ?? null;
  }

  async set(key: string, result: BaselineResult): Promise<void> {
    this.memory.set(key, result);
    if (!this.storage) return;
    const stored = ((await this.storage.load()) ?? {}) as Record<string, BaselineResult>;
    await this.storage.save({ ...stored, [key]: result });
  }
}

/**
 * Validates the base commit before any agent spends a token, in a prepared worktree, running every
 * command (not stopping at the first failure). Cached per base commit and configuration.
 */
export async function measureBaseline(deps: PipelineDeps, run: RunRecord): Promise<BaselineResult> {
  const key = `${run.baseCommit}:${createHash('sha256')
    .update(JSON.stringify({ validate: run.config.validate, setup: run.config.setup ?? null, copy: run.config.copy }))
    .digest('hex')
    .slice(0, 16)}`;
  const cached = await deps.baselines?.get(key);
  if (cached) return cached;
  const worktree = await deps.workspace.acquireWorktree({
    repoDir: run.repo,
    poolRoot: worktreePool(deps.worktreeRoot),
    branch: null,
    commit: run.baseCommit,
  });
  try {
    const prepared = deps.prepareWorktree
      ? await deps.prepareWorktree(worktree, run.config, { trustedCommit: run.baseCommit })
      : ({ ok: true } as const);
    if (!prepared.ok)
      return {
        failing: [
          { run: 'environment setup', exitCode: null, timedOut: false, durationMs: 0, outputTail: prepared.message },
        ],
      };
    const result = await validateIn(deps, worktree, run.config, { runAll: true });
    const baseline: BaselineResult = {
      failing: result.commands
        .filter((command) => !command.passed)
        .map(({ run: text, exitCode, timedOut, durationMs, outputTail }) => ({
          run: text,
          exitCode,
          timedOut,
          durationMs,
          outputTail,
        })),
    };
    await deps.baselines?.set(key, baseline);
    return baseline;
  } finally {
    await deps.workspace.releaseWorktree(worktree);
  }
}

/** Why a red base stops the run, for people: each failing command, its exit code and its last lines. */
export function describeRedBaseline(run: RunRecord, baseline: BaselineResult): string {
  const lines = [
    `The base commit ${run.baseCommit.slice(0, 8)} of ${run.baseBranch} already fails validation, so no agent was started:`,
  ];
  for (const command of baseline.failing) {
    const status = command.timedOut ? 'timed out' : `exit ${command.exitCode ?? 'unknown'}`;
    lines.push(
      `- \`${command.run}\`: ${status}`,
      ...command.outputTail
        .trim()
        .split('\n')
        .slice(-12)
        .map((line) => `    ${line}`),
    );
  }
  lines.push(
    `Fix ${run.baseBranch} (or the environment: \`setup:\` in .github/fanout.yml), or set \`baseline: allow-red\` to judge each pull request only on what passes on the base.`,
  );
  return lines.join('\n');
}
