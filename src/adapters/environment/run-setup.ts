import {
  describeLimitHit,
  RESOURCE_LIMIT_DEFAULTS,
  type ResourceLimitKind,
  type ResourceLimits,
} from '../../domain/resource-limits.js';
import type { CommandRunner } from '../../ports/command-runner.js';
import type { Worktree } from '../../ports/workspace.js';
import { REGISTRY_CONFIG_FILES, copyRegistryConfig } from './registry-config.js';

/** One setup command as it runs: `bash -c` for a configured line, the install's argv when detected. */
export interface SetupCommand {
  /** How reports name it (`npm ci --no-audit --no-fund`, or the configured line). */
  label: string;
  argv: readonly string[];
  timeoutMs: number;
}

export type SetupRun =
  /** `credentials`: the registry credentials setup had (to make sure none is left where agents look). */
  | { ok: true; durationMs: number; credentials: string[] }
  | {
      ok: false;
      label: string;
      exitCode: number | null;
      timedOut: boolean;
      durationMs: number;
      tail: string;
      secrets: string[];
      /** The resource limit the command was stopped at. */
      limitExceeded?: ResourceLimitKind;
      limits?: ResourceLimits;
    };

/** Characters of output kept for a failure message (stdout and stderr each). */
export const SETUP_OUTPUT_TAIL = 4_000;

/**
 * Runs setup commands in the worktree, in order, through the runner (so in the sandbox), each with
 * its time limit. They share one private HOME, made for them and deleted when they end; with
 * `registry` it holds a copy of the user's registry configuration (and its tokens), which no later
 * command sees: agents and validation get HOMEs of their own.
 */
export async function runSetup(input: {
  runner: CommandRunner;
  worktree: Worktree;
  commands: readonly SetupCommand[];
  network: boolean;
  /** What networked setup may reach beyond the internet (`networkAllow:`). */
  networkAllow?: readonly string[];
  /** Where the user's registry configuration is copied from; none when absent. */
  registry?: { userHome: string; env: NodeJS.ProcessEnv };
  /** `limits:` of .github/fanout.yml; the runner's defaults when absent. */
  limits?: ResourceLimits;
  signal?: AbortSignal;
}): Promise<SetupRun> {
  const started = performance.now();
  const home = await input.runner.privateHome();
  try {
    const registry = input.registry
      ? await copyRegistryConfig(input.registry.userHome, home.path, input.registry.env)
      : { copied: [], secrets: [] };
    for (const command of input.commands) {
      const result = await input.runner.run({
        argv: command.argv,
        cwd: input.worktree.path,
        timeoutMs: command.timeoutMs,
        outputLimit: SETUP_OUTPUT_TAIL,
        env: {
          HOME: home.path,
          // corepack asks before downloading a package manager; nobody is there to answer.
          COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
          npm_config_update_notifier: 'false',
        },
        git: { gitDir: input.worktree.gitDir, commonDir: input.worktree.commonDir },
        network: input.network,
        ...(input.networkAllow ? { networkAllow: input.networkAllow } : {}),
        ...(input.limits ? { limits: input.limits } : {}),
        ...(input.signal ? { signal: input.signal } : {}),
      });
      if (result.exitCode !== 0 || result.timedOut) {
        const output = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.trim();
        return {
          ok: false,
          label: command.label,
          exitCode: result.exitCode,
          timedOut: result.timedOut,
          durationMs: Math.round(performance.now() - started),
          tail: output.slice(-SETUP_OUTPUT_TAIL),
          secrets: registry.secrets,
          ...(result.limitExceeded ? { limitExceeded: result.limitExceeded } : {}),
          ...(input.limits ? { limits: input.limits } : {}),
        };
      }
    }
    return { ok: true, durationMs: Math.round(performance.now() - started), credentials: registry.secrets };
  } finally {
    await home.dispose();
  }
}

/** What a failed setup says: which command, how it ended, and its output's tail, credentials cut. */
export function setupFailureMessage(
  run: Extract<SetupRun, { ok: false }>,
  redact: (text: string) => string = (text) => text,
): string {
  const ending = run.limitExceeded
    ? `was stopped at ${describeLimitHit(run.limitExceeded, run.limits ?? RESOURCE_LIMIT_DEFAULTS)}`
    : run.timedOut
      ? 'timed out'
      : run.exitCode === null
        ? 'was killed'
        : `exited with ${run.exitCode}`;
  let tail = run.tail;
  for (const secret of run.secrets) tail = tail.split(secret).join('[redacted]');
  return redact(
    `Setup failed: \`${run.label}\` ${ending} after ${(run.durationMs / 1000).toFixed(1)} s. This is the environment, not the agent's work: fix \`setup:\` in .github/fanout.yml or the repository's dependencies (registry configuration comes from ${REGISTRY_CONFIG_FILES.map((file) => `~/${file}`).join(', ')}).${tail ? `\n${tail}` : ''}`,
  );
}
