import { LlmError } from '../../domain/errors.js';
import type { SecretRedactor } from '../../domain/redactor.js';

type ErrorClass<Instance = Error> = abstract new (...args: never[]) => Instance;

/**
 * The error classes an SDK made by Stainless (openai, @anthropic-ai/sdk) exports under the same
 * names: each SDK has classes of its own, so `instanceof` needs that SDK's.
 */
export interface SdkErrorClasses {
  /** Every error the SDK raises for an exchange; HTTP errors carry `status`, the parsed body `error`. */
  APIError: ErrorClass<Error & { readonly status: number | undefined; readonly error: unknown }>;
  APIUserAbortError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
  APIConnectionError: ErrorClass;
}

/** Which SDK an adapter uses, and the settings a person checks when it fails. */
export interface LlmErrorContext {
  sdk: SdkErrorClasses;
  keyVariable: string;
  baseUrlVariable: string;
}

/**
 * Turns an SDK error into an LlmError whose message names the endpoint and model. Endpoints
 * echo the API key in error bodies ("Incorrect API key provided: ..."), so the endpoint's words
 * pass through `redactor` (which knows the key) before they reach the message or the cause.
 * Statuses decide, not the SDK's subclasses, so both SDKs map alike (429, and 5xx such as
 * Anthropic's 529 overloaded, only after the SDK's retries).
 */
export function wrapLlmError(
  error: unknown,
  endpoint: string,
  model: string,
  redactor: SecretRedactor,
  context: LlmErrorContext,
): LlmError {
  if (error instanceof LlmError) return error;
  const { sdk } = context;
  scrub(error, redactor, sdk);
  const where = `model "${model}" at ${endpoint}`;
  const detail = redactor.text(describe(error, sdk));
  if (error instanceof sdk.APIUserAbortError) {
    return new LlmError('llm-aborted', `The request to ${where} was cancelled.`, undefined, { cause: error });
  }
  if (error instanceof sdk.APIConnectionTimeoutError) {
    return new LlmError('llm-timeout', `The model endpoint timed out: ${where} did not answer in time.`, undefined, {
      cause: error,
    });
  }
  if (error instanceof sdk.APIConnectionError) {
    return new LlmError(
      'llm-unreachable',
      `Cannot reach the model endpoint ${endpoint} (model "${model}"): ${detail}. Check ${context.baseUrlVariable} and that the server is running.`,
      undefined,
      { cause: error },
    );
  }
  const status = error instanceof sdk.APIError ? error.status : undefined;
  if (status === undefined) {
    return new LlmError('llm-bad-response', `Unexpected answer from ${where}: ${detail}.`, undefined, { cause: error });
  }
  if (status === 401 || status === 403) {
    return new LlmError(
      'llm-auth',
      `The endpoint ${endpoint} refused the API key (HTTP ${status}: ${detail}). Check ${context.keyVariable}.`,
      status,
      { cause: error },
    );
  }
  if (status === 404) {
    return new LlmError(
      'llm-model-not-found',
      `The endpoint ${endpoint} does not serve model "${model}" (HTTP 404: ${detail}). Check FANOUT_MODEL.`,
      404,
      { cause: error },
    );
  }
  if (status === 429) {
    return new LlmError('llm-rate-limited', `The ${where} kept rate-limiting requests (HTTP 429) after retries.`, 429, {
      cause: error,
    });
  }
  if (status >= 500) {
    return new LlmError(
      'llm-server-error',
      `The ${where} failed with HTTP ${status} after retries: ${detail}.`,
      status,
      {
        cause: error,
      },
    );
  }
  return new LlmError('llm-bad-request', `The ${where} rejected the request (HTTP ${status}): ${detail}.`, status, {
    cause: error,
  });
}

/**
 * Redacts the SDK error in place (its message, its parsed body, its causes): it stays attached as
 * the LlmError's cause for debugging, and an inspected cause is printed whole.
 */
function scrub(error: unknown, redactor: SecretRedactor, sdk: SdkErrorClasses): void {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth += 1) {
    current.message = redactor.text(current.message);
    // `error` is readonly in the SDK's types only; it is the parsed response body.
    if (current instanceof sdk.APIError) (current as { error: unknown }).error = redactor.deep(current.error);
    current = (current as { cause?: unknown }).cause;
  }
}

/** The endpoint's own words: `{message}` (OpenAI's error object) or `{error: {message}}` (Anthropic's body). */
function describe(error: unknown, sdk: SdkErrorClasses): string {
  if (error instanceof sdk.APIError) {
    const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined;
    if (body && typeof body.message === 'string') return body.message;
    if (body && typeof body.error?.message === 'string') return body.error.message;
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
