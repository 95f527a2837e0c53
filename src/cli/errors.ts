import { ConfigError, DiskFullError, FanoutError } from '../domain/errors.js';
import { EXIT_BAD_INPUT, EXIT_FAILED } from './exit-codes.js';
import type { Output } from './output.js';

/** Usage errors: the command line itself is wrong. */
export class UsageError extends FanoutError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** Turns an error escaping a command into a message and an exit code; bugs keep their stack. */
export function reportFailure(error: unknown, output: Output): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    output.err(`fanout: ${error.message}`);
    return EXIT_BAD_INPUT;
  }
  if (error instanceof DiskFullError) {
    output.err(`fanout: ${error.message}: free space, then run the command again.`);
    return EXIT_FAILED;
  }
  if (error instanceof FanoutError) {
    output.err(`fanout: ${error.message}`);
    return error.code === 'ref-not-found' || error.code === 'sandbox-unavailable' ? EXIT_BAD_INPUT : EXIT_FAILED;
  }
  output.err(`fanout: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT_FAILED;
}
