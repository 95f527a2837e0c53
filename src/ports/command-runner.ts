import type { ResourceLimitKind, ResourceLimits } from '../domain/resource-limits.js';

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
  /**
   * The git directories of the worktree in `cwd`, from Fanout's own records (never from the
   * `.git` file an agent can rewrite): a sandbox lets the command write `gitDir` and read
   * `commonDir`, so git works without exposing or changing the shared repository.
   */
  git?: { gitDir: string; commonDir: string };
  /** Whether the command may reach the network; sandboxing runners deny it unless true. */
  network?: boolean;
  /**
   * With `network`, what the command may reach beyond the internet (`networkAllow:` in
   * .github/fanout.yml, validated): sandboxing runners close private ranges and the host's own
   * services otherwise.
   */
  networkAllow?: readonly string[];
  /** Installations the command runs from (an agent CLI's own directory), shown read-only in a sandbox. */
  toolPaths?: readonly string[];
  /**
   * Called with stdout as it arrives, for a command whose output is a live event stream (an agent
   * CLI); the result still holds the capped output.
   */
  onStdout?: (chunk: string) => void;
  /** Its processes, memory, file size and disk growth (`limits:`); the runner's defaults when absent. */
  limits?: ResourceLimits;
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
  /**
   * The resource limit the command hit, from the kernel's own counts (a cgroup's events, the
   * SIGXFSZ death) or the disk watcher, never from its output; the command was stopped there.
   */
  limitExceeded?: ResourceLimitKind;
}

/** A private, empty HOME directory for a series of commands (one agent, one validation). */
export interface PrivateHome {
  path: string;
  dispose(): Promise<void>;
}

/** Runs commands for agents and validation; a sandboxing adapter can replace the plain one. */
export interface CommandRunner {
  /**
   * True when nothing a command starts outlives it (its PID namespace ends with it): after a
   * command, no leftover process can still write in its worktree.
   */
  readonly confinesProcesses: boolean;
  run(request: CommandRequest): Promise<CommandResult>;
  /** Commands get their own HOME: no ~/.npmrc, ~/.git-credentials or tokens of the host user. */
  privateHome(): Promise<PrivateHome>;
}
