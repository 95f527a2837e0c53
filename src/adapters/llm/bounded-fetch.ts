import { LlmError } from '../../domain/errors.js';

/** How far one answer (one HTTP exchange: headers and the whole body, streamed or not) may go. */
export interface AnswerBounds {
  /** Wall time from sending the request to the last byte of the answer. */
  timeoutMs: number;
  /** Bytes of the answer's body, as they come off the wire. */
  maxBytes: number;
}

/**
 * An answer that ran past its bounds. Raised from inside the body the SDK reads, so it reaches
 * the adapter as it is; `OpenAiLlm` retries it, which the SDK does not do for a body.
 */
export class AnswerOverrunError extends LlmError {
  constructor(code: 'llm-timeout' | 'llm-answer-too-large', message: string) {
    super(code, message);
  }
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Wraps `fetch` so every exchange ends by its bounds: a timer from the request to the body's end
 * (the SDK's own timeout stops once headers arrive), and a byte count on the body that cancels the
 * request past the cap. Either aborts the request itself, so the connection closes and nothing
 * more is buffered: an endless stream cannot hold a run, nor fill memory up to V8's string limit.
 */
export function boundedFetch(bounds: AnswerBounds, where: string, inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    const deadline = new AbortController();
    const overrun = (error: AnswerOverrunError) => {
      clearTimeout(timer);
      if (!deadline.signal.aborted) deadline.abort(error);
    };
    const timer = setTimeout(
      () =>
        overrun(
          new AnswerOverrunError(
            'llm-timeout',
            `The ${where} did not finish its answer within ${bounds.timeoutMs} ms (FANOUT_LLM_TIMEOUT_MS).`,
          ),
        ),
      bounds.timeoutMs,
    );
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    let response: Response;
    try {
      response = await inner(input, { ...init, signal });
    } catch (error) {
      clearTimeout(timer);
      // Before the headers the SDK's own timeout applies (it retries it): look like it.
      if (deadline.signal.aborted && !init?.signal?.aborted) throw new DOMException('timed out', 'AbortError');
      throw error;
    }
    if (!response.body) {
      clearTimeout(timer);
      return response;
    }
    const reader = response.body.getReader();
    let received = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let piece: Awaited<ReturnType<typeof reader.read>>;
        try {
          piece = await reader.read();
        } catch (error) {
          clearTimeout(timer);
          // Ended by a bound: the reader fails with the abort; the reason is what the caller needs.
          const reason: unknown = deadline.signal.reason;
          controller.error(reason instanceof AnswerOverrunError ? reason : error);
          return;
        }
        if (piece.done) {
          clearTimeout(timer);
          controller.close();
          return;
        }
        received += piece.value.byteLength;
        if (received > bounds.maxBytes) {
          const error = new AnswerOverrunError(
            'llm-answer-too-large',
            `The ${where} sent an answer larger than ${bounds.maxBytes} bytes (FANOUT_LLM_MAX_ANSWER_BYTES); it was cut off.`,
          );
          overrun(error);
          await reader.cancel(error).catch(() => undefined);
          controller.error(error);
          return;
        }
        controller.enqueue(piece.value);
      },
      async cancel(reason) {
        clearTimeout(timer);
        await reader.cancel(reason).catch(() => undefined);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
