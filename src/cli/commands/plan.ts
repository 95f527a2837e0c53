import { protectedPaths } from '../../domain/protected-paths.js';
import { readWorkspacePackages } from '../../domain/workspace-packages.js';
import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { parseRepoConfig, REPO_CONFIG_PATH } from '../../config/repo-config.js';
import { planTask } from '../../plan/planner.js';
import { createLlm, createWorkspace } from '../../main.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderPlan } from '../render-plan.js';
import { REPORT_SCHEMA_VERSION } from '../../report/run-report.js';
import { UsageError } from '../errors.js';
import { repositoryPath } from '../repo-path.js';

export const PLAN_USAGE = 'fanout plan [--repo DIR] [--json] [--hints TEXT] [--max-subtasks N] "task"';

/** `fanout plan`: plans a task against a local repository and prints the plan. */
export async function planCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      json: { type: 'boolean', default: false },
      hints: { type: 'string' },
      'max-subtasks': { type: 'string' },
    },
  });
  const task = positionals.join(' ').trim();
  if (!task) throw new UsageError(`a task is required.\nusage: ${PLAN_USAGE}`);
  const repoDir = repositoryPath(values.repo);
  const workspace = createWorkspace();
  const head = await workspace.resolveCommit(repoDir, 'HEAD');
  const config = parseRepoConfig(await workspace.readFileAt(repoDir, head, REPO_CONFIG_PATH));
  const maxSubtasks =
    values['max-subtasks'] === undefined ? config.maxSubtasks : parsePositive(values['max-subtasks'], '--max-subtasks');
  const llm = createLlm(env, config.model ? { model: config.model } : {});
  const files = await workspace.listFiles(repoDir, head);
  const result = await planTask({
    llm,
    task,
    files,
    packages: await readWorkspacePackages(files, (path) => workspace.readFileAt(repoDir, head, path)),
    maxSubtasks,
    protectedPaths: protectedPaths(config.protectedPaths),
    ...(values.hints ? { hints: values.hints } : {}),
  });
  output.out(
    values.json
      ? JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, baseCommit: head, ...result }, null, 2)
      : renderPlan(result),
  );
  return EXIT_OK;
}

/** Parses a positive integer flag or throws a usage error naming it. */
export function parsePositive(raw: string, flag: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`${flag} must be a positive whole number, got "${raw}".`);
  return value;
}
