import { fileURLToPath } from 'node:url';
import { loadDotEnv } from '../config/dotenv.js';
import { loadEnv, type Env } from '../config/env.js';
import { secretsFromEnv } from '../config/secrets.js';
import { SecretRedactor } from '../domain/redactor.js';
import { approveCommand } from './commands/approve.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { fixCommand } from './commands/fix.js';
import { logsCommand } from './commands/logs.js';
import { planCommand, PLAN_USAGE } from './commands/plan.js';
import { resumeCommand, runCommand, RUN_USAGE } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';
import { processOutput, redactingOutput, type Output } from './output.js';
import { reportFailure } from './errors.js';

const USAGE = `Usage: fanout <command> [options]

Commands:
  demo [--keep] [--json]    the whole pipeline on a throwaway sample repository (scripted model without OPENAI_API_KEY)
  run                       ${RUN_USAGE}
  resume <run-id> [--retry-failed] [--json]
                            continue an interrupted run; with --retry-failed, retry failed subtasks and merges
  status [run-id] [--json]  list runs, or show one run's subtasks
  logs <run-id> <subtask> [--attempt N] [--json]
                            what an agent did, event by event
  approve <run-id> <subtask>
                            approve a subtask's pull request (approval: manual), then resume to merge it
  fix <run-id> <subtask> ["instructions"] [--json]
                            send a subtask's agent back to its pull request with instructions (a review from the terminal)
  plan                      ${PLAN_USAGE}
  doctor [--json]           check that the configured model can drive agents
  serve                     run the GitHub App (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT)

Environment: OPENAI_API_KEY, OPENAI_BASE_URL, FANOUT_MODEL (see .env.example).`;

type Command = (argv: string[], env: Env, output: Output) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: demoCommand,
  run: runCommand,
  resume: resumeCommand,
  status: statusCommand,
  logs: logsCommand,
  approve: approveCommand,
  fix: fixCommand,
  plan: planCommand,
  doctor: doctorCommand,
  serve: serveCommand,
};
const HELP = new Set(['help', '--help', '-h']);

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  // Until the environment is read, well-known token shapes are all the redactor knows.
  let printed = redactingOutput(output, new SecretRedactor());
  try {
    if (command === undefined || HELP.has(command)) {
      printed.out(USAGE);
      return command === undefined ? EXIT_BAD_INPUT : EXIT_OK;
    }
    const handler = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!handler) {
      printed.err(`fanout: unknown command "${command}".\n\n${USAGE}`);
      return EXIT_BAD_INPUT;
    }
    // A .env file in the current directory fills in what the environment does not set.
    loadDotEnv(process.cwd());
    const env = loadEnv();
    // Nothing a command prints carries a configured secret (an endpoint may echo the API key).
    printed = redactingOutput(output, new SecretRedactor(secretsFromEnv(env)));
    return await handler(rest, env, printed);
  } catch (error) {
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      printed.err(`fanout: ${error.message}\n\n${USAGE}`);
      return EXIT_BAD_INPUT;
    }
    return reportFailure(error, printed);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
