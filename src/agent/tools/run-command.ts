import { z } from 'zod';
import { describeLimitHit, RESOURCE_LIMIT_DEFAULTS } from '../../domain/resource-limits.js';
import { defineTool } from './define-tool.js';

const MAX_LISTED = 20;

/** Paths whose signature differs between two snapshots: changed, created or reverted/deleted. */
function changedBetween(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((path) => before.get(path) !== after.get(path)).sort();
}

/** Runs a shell command in the worktree (timeout, output cap, process group killed, no secrets in its environment). */
export const runCommandTool = defineTool({
  name: 'run_command',
  description:
    'Run a shell command in the repository root (e.g. the tests). Returns the exit code, stdout and stderr. Commands are killed after their timeout.',
  schema: z
    .object({ command: z.string().min(1), timeoutSeconds: z.number().int().min(1).max(3600).optional() })
    .strict(),
  runsCommands: true,
  async execute({ command, timeoutSeconds }, context) {
    const timeoutMs = Math.min((timeoutSeconds ?? Infinity) * 1000, context.commandTimeoutMs);
    const before = await context.worktreeChanges?.();
    const result = await context.runner.run({
      argv: ['bash', '-c', command],
      cwd: context.root,
      timeoutMs,
      outputLimit: Math.floor(context.outputLimit / 2),
      env: context.commandEnv,
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.git ? { git: context.git } : {}),
      ...(context.network !== undefined ? { network: context.network } : {}),
      ...(context.networkAllow ? { networkAllow: context.networkAllow } : {}),
      ...(context.limits ? { limits: context.limits } : {}),
    });
    const after = before ? await context.worktreeChanges!() : null;
    const changedFiles = before && after ? changedBetween(before, after) : [];
    const streams = `--- stdout ---\n${result.stdout || '(empty)'}\n--- stderr ---\n${result.stderr || '(empty)'}`;
    const changes =
      changedFiles.length > 0
        ? `\n--- files this command changed ---\n${changedFiles.slice(0, MAX_LISTED).join('\n')}${changedFiles.length > MAX_LISTED ? `\n… and ${changedFiles.length - MAX_LISTED} more` : ''}`
        : '';
    if (result.limitExceeded) {
      const limit = describeLimitHit(result.limitExceeded, context.limits ?? RESOURCE_LIMIT_DEFAULTS);
      return {
        ok: false,
        error: `command stopped at ${limit}, with everything it started. Run something smaller (fewer parallel jobs, less data, remove what you wrote); a second command stopped at a limit fails the subtask\n${streams}${changes}`,
        limitExceeded: result.limitExceeded,
      };
    }
    if (result.timedOut) {
      return {
        ok: false,
        error: `command timed out after ${Math.round(timeoutMs / 1000)} s and was killed with everything it started\n${streams}${changes}`,
      };
    }
    const status = result.exitCode === null ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
    // A non-zero exit is information (failing tests), not a broken tool call.
    return {
      ok: true,
      output: `${status} (${result.durationMs} ms)\n${streams}${changes}`,
      ...(changedFiles.length > 0 ? { changedFiles } : {}),
    };
  },
});
