import { FanoutError } from '../domain/errors.js';

/**
 * A command could not be stored: the delivery is answered 503 (the webhook middleware answers with
 * an error's `status`), so GitHub shows it failed and it can be redelivered.
 */
export class IntakeUnavailableError extends FanoutError {
  readonly status = 503;

  constructor(message: string, options?: { cause?: unknown }) {
    super('intake-unavailable', message, options);
  }
}
