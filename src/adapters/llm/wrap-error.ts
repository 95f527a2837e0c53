import OpenAI from 'openai';
import { LlmError } from '../../domain/errors.js';
import { SecretRedactor } from '../../domain/redactor.js';

/**
 * Turns an openai SDK error into an LlmError whose message names the endpoint and model. Endpoints
 * echo the API key in error bodies ("Incorrect API key provided: ..."), so the endpoint's words
 * pass through `redactor` (which knows the key) before they reach the message or the cause.
 */
export function wrapLlmError(
  error: unknown,
  endpoint: string,
  model: string,
  redactor: SecretRedactor = new SecretRedactor(),
): LlmError {
  if (error instanceof LlmError) return error;
  scrub(error, redactor);
  const where = `model "${model}" at ${endpoint}`;
  const detail = redactor.text(describe(error));
  if (error instanceof OpenAI.APIUserAbortError) {
    return new LlmError('llm-aborted', `The request to ${where} was cancelled.`, undefined, { cause: error });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new LlmError('llm-timeout', `The model endpoint timed out: ${where} did not answer in time.`, undefined, {
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new LlmError(
      'llm-unreachable',
      `Cannot reach the model endpoint ${endpoint} (model "${model}"): ${detail}. Check OPENAI_BASE_URL and that the server is running.`,
      undefined,
      { cause: error },
    );
  }
  if (error instanceof OpenAI.AuthenticationError || error instanceof OpenAI.PermissionDeniedError) {
    return new LlmError(
      'llm-auth',
      `The endpoint ${endpoint} refused the API key (HTTP ${error.status}: ${detail}). Check OPENAI_API_KEY.`,
      error.status,
      {
        cause: error,
      },
    );
  }
  if (error instanceof OpenAI.NotFoundError) {
    return new LlmError(
      'llm-model-not-found',
      `The endpoint ${endpoint} does not serve model "${model}" (HTTP 404: ${detail}). Check FANOUT_MODEL.`,
      404,
      { cause: error },
    );
  }
  if (error instanceof OpenAI.RateLimitError) {
    return new LlmError('llm-rate-limited', `The ${where} kept rate-limiting requests (HTTP 429) after retries.`, 429, {
      cause: error,
    });
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number' && error.status >= 500) {
    return new LlmError(
      'llm-server-error',
      `The ${where} failed with HTTP ${error.status} after retries: ${detail}.`,
      error.status,
      { cause: error },
    );
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    return new LlmError(
      'llm-bad-request',
      `The ${where} rejected the request (HTTP ${error.status}): ${detail}.`,
      error.status,
      { cause: error },
    );
  }
  return new LlmError('llm-bad-response', `Unexpected answer from ${where}: ${detail}.`, undefined, { cause: error });
}

/**
 * Redacts the SDK error in place (its message, its parsed body, its causes): it stays attached as
 * the LlmError's cause for debugging, and an inspected cause is printed whole.
 */
function scrub(error: unknown, redactor: SecretRedactor): void {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth += 1) {
    current.message = redactor.text(current.message);
    // `error` is readonly in the SDK's types only; it is the parsed response body.
    if (current instanceof OpenAI.APIError) (current as { error: unknown }).error = redactor.deep(current.error);
    current = (current as { cause?: unknown }).cause;
  }
}

function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError) {
    const body = error.error as { message?: unknown } | undefined;
    if (body && typeof body.message === 'string') return body.message;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message) return `${error.message} (${cause.message})`;
    return error.message;
  }
  return String(error);
}

/** The endpoint without user info or query, safe to show in messages. */
export function displayEndpoint(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint URL)';
  }
}

/** The password written into the endpoint URL (https://user:password@host), if any: a secret too. */
export function endpointPassword(baseUrl: string): string | undefined {
  try {
    const { password } = new URL(baseUrl);
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
