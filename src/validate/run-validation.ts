import { touchesAny } from '../domain/scope.js';
import type { ResourceLimitKind, ResourceLimits } from '../domain/resource-limits.js';
import type { CommandRunner } from '../ports/command-runner.js';

export interface ValidationCommand {
  run: string;
  timeoutSeconds: number;
  /** Globs: the command runs only when one of the changed files matches. */
  paths?: readonly string[];
}

export interface CommandCheck {
  run: string;
  passed: boolean;
  /** Not run: the change touches none of the command's `paths`. */
  skipped?: boolean;
  /** Failed, but failed on the base commit too (`baseline: allow-red`): not held against the change. */
  failedOnBase?: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Stopped at this resource limit (`limits:`). */
  limitExceeded?: ResourceLimitKind;
  durationMs: number;
  /** Last lines of stdout and stderr, for the check's details. */
  outputTail: string;
}

/** The result of validating one commit: every configured command, in order. */
export interface ValidationResult {
  passed: boolean;
  commands: CommandCheck[];
  durationMs: number;
}

const OUTPUT_TAIL = 4_000;

/**
 * Runs the repository's validation commands in a worktree, stopping at the first failure (later
 * commands usually depend on earlier ones), unless `runAll` (the baseline wants every failure) or
 * the command failed on the base too (`baselineFailures`, under `baseline: allow-red`), which is
 * not held against the change. A command with `paths` the change does not touch is skipped.
 * No commands configured is a pass.
 */
export async function runValidation(input: {
  runner: CommandRunner;
  cwd: string;
  commands: readonly ValidationCommand[];
  env?: Record<string, string>;
  /** The worktree's git directories, so git works inside a sandbox. */
  git?: { gitDir: string; commonDir: string };
  network?: boolean;
  networkAllow?: readonly string[];
  /** What each command may take (`limits:`); the runner's defaults when absent. */
  limits?: ResourceLimits;
  signal?: AbortSignal;
  /** The files the change touches; with it, commands with `paths` run only when they match. */
  changedFiles?: readonly string[];
  /** Commands (by their `run` text) that fail on the base commit. */
  baselineFailures?: readonly string[];
  runAll?: boolean;
}): Promise<ValidationResult> {
  const started = Date.now();
  const commands: CommandCheck[] = [];
  for (const command of input.commands) {
    if (command.paths && input.changedFiles && !touchesAny(input.changedFiles, command.paths)) {
      commands.push({
        run: command.run,
        passed: true,
        skipped: true,
        exitCode: null,
        timedOut: false,
        durationMs: 0,
        outputTail: `skipped: the change touches none of ${command.paths.join(', ')}`,
      });
      continue;
    }
    const result = await input.runner.run({
      argv: ['bash', '-c', command.run],
      cwd: input.cwd,
      timeoutMs: command.timeoutSeconds * 1000,
      outputLimit: OUTPUT_TAIL,
      ...(input.env ? { env: input.env } : {}),
      ...(input.git ? { git: input.git } : {}),
      network: input.network === true,
      ...(input.networkAllow ? { networkAllow: input.networkAllow } : {}),
      ...(input.limits ? { limits: input.limits } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const passed = result.exitCode === 0 && !result.timedOut && !result.limitExceeded;
    const failedOnBase = !passed && (input.baselineFailures ?? []).includes(command.run);
    commands.push({
      run: command.run,
      passed,
      ...(failedOnBase ? { failedOnBase } : {}),
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      ...(result.limitExceeded ? { limitExceeded: result.limitExceeded } : {}),
      durationMs: result.durationMs,
      // The cause last: the tail is what a check shows.
      outputTail: tail(
        `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}${result.limitExceeded ? `\n[fanout] stopped at a resource limit (resource-limit: ${result.limitExceeded})` : ''}`,
      ),
    });
    if (!passed && !failedOnBase && !input.runAll) break;
  }
  return {
    passed: commands.every((command) => command.passed || command.failedOnBase === true),
    commands,
    durationMs: Date.now() - started,
  };
}

/** One line per command: what a check summary shows. */
export function summarizeValidation(result: ValidationResult, configured: number): string {
  if (configured === 0) return 'no validation commands configured (.github/fanout.yml `validate:`)';
  const lines = result.commands.map((command) => {
    const status = command.skipped
      ? 'skipped (no change under its paths)'
      : command.limitExceeded
        ? `stopped at a resource limit (resource-limit: ${command.limitExceeded})`
        : command.timedOut
          ? 'timed out'
          : command.passed
            ? 'passed'
            : `failed (exit ${command.exitCode})${command.failedOnBase ? ', as on the base' : ''}`;
    return `${command.run}: ${status}${command.skipped ? '' : ` in ${(command.durationMs / 1000).toFixed(1)} s`}`;
  });
  const skipped = configured - result.commands.length;
  if (skipped > 0) lines.push(`${skipped} later command(s) not run`);
  return lines.join('\n');
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= OUTPUT_TAIL ? trimmed : trimmed.slice(trimmed.length - OUTPUT_TAIL);
}

/** The commands held against the change (failed, and not as on the base), for reports. */
export function failedCommands(
  result: ValidationResult,
): Array<{ run: string; exitCode: number | null; timedOut: boolean; durationMs: number; outputTail: string }> {
  return result.commands
    .filter((command) => !command.passed && !command.failedOnBase)
    .map(({ run, exitCode, timedOut, durationMs, outputTail }) => ({
      run,
      exitCode,
      timedOut,
      durationMs,
      outputTail,
    }));
}
