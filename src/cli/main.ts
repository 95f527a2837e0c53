import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadDotEnv } from '../config/dotenv.js';
import { loadEnv } from '../config/env.js';
import { secretsFromEnv } from '../config/secrets.js';
import { SecretRedactor } from '../domain/redactor.js';
import { closest, commandHelp, COMMANDS, type CommandSpec } from './command-table.js';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes.js';
import { processOutput, redactingOutput, type Output } from './output.js';
import { reportFailure } from './errors.js';

const USAGE = [
  'Usage: fanout <command> [options]   (fanout <command> --help for one command)',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(9)} ${spec.about}`),
  '',
  'Environment: OPENAI_API_KEY, OPENAI_BASE_URL, FANOUT_MODEL, or ANTHROPIC_API_KEY alone to plan with Claude (see .env.example; a .env file in the current directory is read).',
].join('\n');

const HELP = new Set(['help', '--help', '-h']);
const VERSION = new Set(['version', '--version', '-v']);

/** The version in package.json. */
function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('../../package.json') as { version?: string };
  return manifest.version ?? 'unknown';
}

/** Node's parseArgs message, shorter, with the closest flag of the command when one was mistyped. */
function parseArgsMessage(message: string, spec: CommandSpec | undefined): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (!unknown) return message;
  const guess = spec ? closest(unknown, spec.flags) : null;
  return `unknown option ${unknown}.${guess ? ` Did you mean ${guess}?` : ''}`;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  const [command, ...rest] = argv;
  // Until the environment is read, well-known token shapes are all the redactor knows.
  let printed = redactingOutput(output, new SecretRedactor());
  let spec: CommandSpec | undefined;
  try {
    if (command === undefined || HELP.has(command)) {
      printed.out(USAGE);
      return command === undefined ? EXIT_BAD_INPUT : EXIT_OK;
    }
    if (VERSION.has(command)) {
      printed.out(`fanout ${packageVersion()}`);
      return EXIT_OK;
    }
    spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!spec) {
      const guess = closest(command, Object.keys(COMMANDS));
      printed.err(`fanout: unknown command "${command}".${guess ? ` Did you mean "${guess}"?` : ''}\n\n${USAGE}`);
      return EXIT_BAD_INPUT;
    }
    // Help before anything is read or validated: it must work even with a broken environment.
    const flags = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
    if (flags.some((arg) => arg === '--help' || arg === '-h')) {
      printed.out(commandHelp(spec));
      return EXIT_OK;
    }
    // A .env file in the current directory fills in what the environment does not set.
    loadDotEnv(process.cwd());
    const env = loadEnv();
    // Nothing a command prints carries a configured secret (an endpoint may echo the API key).
    printed = redactingOutput(output, new SecretRedactor(secretsFromEnv(env)));
    return await spec.run(rest, env, printed);
  } catch (error) {
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      printed.err(`fanout: ${parseArgsMessage(error.message, spec)}\n\n${spec ? commandHelp(spec) : USAGE}`);
      return EXIT_BAD_INPUT;
    }
    return reportFailure(error, printed);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
