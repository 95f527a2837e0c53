/** A command to run: an argument vector (a shell line is `['bash', '-c', line]`), never a joined string. */
export interface CommandRequest {
  argv: readonly string[];
  cwd: string;
  timeoutMs: number;
  /** Characters kept of stdout and of stderr each; the middle is cut, the tail kept. */
  outputLimit: number;
  /** Extra variables; secrets are stripped from these too. */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

export interface CommandResult {
  /** Null when the process was killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** True when stdout or stderr was cut to the output limit. */
  truncated: boolean;
  durationMs: number;
}

/** A private, empty HOME directory for a series of commands (one agent, one validation). */
export interface PrivateHome {
  path: string;
  dispose(): Promise<void>;
}

/** Runs commands for agents and validation; a sandboxing adapter can replace the plain one. */
export interface CommandRunner {
  run(request: CommandRequest): Promise<CommandResult>;
  /** Commands get their own HOME: no ~/.npmrc, ~/.git-credentials or tokens of the host user. */
  privateHome(): Promise<PrivateHome>;
}
