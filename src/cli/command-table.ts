import type { Env } from '../config/env.js';
import { approveCommand } from './commands/approve.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { fixCommand } from './commands/fix.js';
import { logsCommand } from './commands/logs.js';
import { planCommand } from './commands/plan.js';
import { resumeCommand, RUN_USAGE, runCommand } from './commands/run.js';
import { AGENT_FLAG_HELP } from './agent-flag.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import type { Output } from './output.js';

/** One subcommand: what it does, how it is called, and its flags (for help and suggestions). */
export interface CommandSpec {
  run: (argv: string[], env: Env, output: Output) => Promise<number>;
  usage: string;
  about: string;
  flags: readonly string[];
  /** More paragraphs for `--help`: what a flag does, where a default comes from. */
  details?: readonly string[];
}

const WITHOUT_REPO = 'Without --repo: the directory you ran the command from.';

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  demo: {
    run: demoCommand,
    usage: 'fanout demo [--agent NAME] [--keep] [--json]',
    about:
      'Runs the whole pipeline on a throwaway sample repository (a scripted model when OPENAI_API_KEY is unset; with --agent claude-code or codex, scripted sessions of that CLI when its key is unset).',
    flags: ['--agent', '--keep', '--json'],
    details: [AGENT_FLAG_HELP],
  },
  run: {
    run: runCommand,
    usage: RUN_USAGE,
    about: 'Plans the task, runs one agent per subtask, opens a pull request each, validates and merges them in order.',
    flags: ['--repo', '--base', '--agent', '--json', '--hints'],
    details: [AGENT_FLAG_HELP, WITHOUT_REPO],
  },
  resume: {
    run: resumeCommand,
    usage: 'fanout resume <run-id> [--retry-failed] [--json]',
    about: 'Continues an interrupted run; with --retry-failed, failed subtasks and merges are tried again.',
    flags: ['--retry-failed', '--json'],
    details: [
      'A run keeps the agent backend it started with (agent: in .github/fanout.yml, or run --agent): its resumes, retries and fix attempts use it too.',
    ],
  },
  status: {
    run: statusCommand,
    usage: 'fanout status [run-id] [--json]',
    about: "Lists the runs, or shows one run's subtasks: state, pull request, check, merge.",
    flags: ['--json'],
  },
  logs: {
    run: logsCommand,
    usage: 'fanout logs <run-id> <subtask> [--attempt N] [--json]',
    about: 'Shows what an agent did, event by event (its attempts and fix attempts).',
    flags: ['--attempt', '--json'],
  },
  approve: {
    run: approveCommand,
    usage: 'fanout approve <run-id> <subtask>',
    about: "Approves a subtask's pull request under approval: manual; then resume merges it.",
    flags: [],
  },
  fix: {
    run: fixCommand,
    usage: 'fanout fix <run-id> <subtask> ["instructions"] [--json]',
    about: "Sends a subtask's agent back to its pull request with instructions (a review from the terminal).",
    flags: ['--json'],
  },
  plan: {
    run: planCommand,
    usage: 'fanout plan [--repo DIR] [--json] [--hints TEXT] [--max-subtasks N] "task"',
    about: 'Only plans: subtasks with non-overlapping write scopes, printed.',
    flags: ['--repo', '--json', '--hints', '--max-subtasks'],
    details: [WITHOUT_REPO],
  },
  doctor: {
    run: doctorCommand,
    usage: 'fanout doctor [--json] [--model M] [--agent NAME]',
    about:
      'Checks that the configured model can drive agents (endpoint, model, tool call, structured output); with --agent (builtin, claude-code, codex), that backend: its binary and version, its sandbox, and one round trip through the gateway.',
    flags: ['--json', '--model', '--agent'],
  },
  worker: {
    run: workerCommand,
    usage: 'fanout worker [--concurrency N]',
    about:
      'Takes agent jobs and run passes from Redis (REDIS_URL) on this machine, N agents at once; SIGTERM finishes the jobs in hand, then exits.',
    flags: ['--concurrency'],
  },
  serve: {
    run: serveCommand,
    usage: 'fanout serve',
    about:
      'Runs the GitHub App (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT; from the environment or .env).',
    flags: [],
  },
};

/** The help for one command: usage and what it does. */
export function commandHelp(spec: CommandSpec): string {
  return [`Usage: ${spec.usage}`, spec.about, ...(spec.details ?? [])].join('\n\n');
}

/** The closest of `candidates` to `given`, when it is close enough to be a likely typo. */
export function closest(given: string, candidates: readonly string[]): string | null {
  let best: { candidate: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(given, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(best.candidate.length / 3)) ? best.candidate : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}
