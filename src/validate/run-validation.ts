import type { CommandRunner } from '../ports/command-runner.js';

export interface ValidationCommand {
  run: string;
  timeoutSeconds: number;
}

export interface CommandCheck {
  run: string;
  passed: boolean;
  exitCode: number | null;
  timedOut: boolean;
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
 * commands usually depend on earlier ones). No commands configured is a pass.
 */
export async function runValidation(input: {
  runner: CommandRunner;
  cwd: string;
  commands: readonly ValidationCommand[];
  env?: Record<string, string>;
  /** The worktree's git directories, so git works inside a sandbox. */
  git?: { gitDir: string; commonDir: string };
  network?: boolean;
  signal?: AbortSignal;
}): Promise<ValidationResult> {
  const started = Date.now();
  const commands: CommandCheck[] = [];
  for (const command of input.commands) {
    const result = await input.runner.run({
      argv: ['bash', '-c', command.run],
      cwd: input.cwd,
      timeoutMs: command.timeoutSeconds * 1000,
      outputLimit: OUTPUT_TAIL,
      ...(input.env ? { env: input.env } : {}),
      ...(input.git ? { git: input.git } : {}),
      network: input.network === true,
      ...(input.signal ? { signal: input.signal } : {}),
    });
    const passed = result.exitCode === 0 && !result.timedOut;
    commands.push({
      run: command.run,
      passed,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      outputTail: tail(`${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`),
    });
    if (!passed) break;
  }
  return { passed: commands.every((command) => command.passed), commands, durationMs: Date.now() - started };
}

/** One line per command: what a check summary shows. */
export function summarizeValidation(result: ValidationResult, configured: number): string {
  if (configured === 0) return 'no validation commands configured (.github/fanout.yml `validate:`)';
  const lines = result.commands.map((command) => {
    const status = command.timedOut ? 'timed out' : command.passed ? 'passed' : `failed (exit ${command.exitCode})`;
    return `${command.run}: ${status} in ${(command.durationMs / 1000).toFixed(1)} s`;
  });
  const skipped = configured - result.commands.length;
  if (skipped > 0) lines.push(`${skipped} later command(s) not run`);
  return lines.join('\n');
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= OUTPUT_TAIL ? trimmed : trimmed.slice(trimmed.length - OUTPUT_TAIL);
}
