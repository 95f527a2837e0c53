/** One scripted answer of the fake endpoint. */
export interface ScriptedReply {
  content?: string;
  toolCalls?: Array<{ name: string; arguments: string | Record<string, unknown>; id?: string }>;
  usage?: { promptTokens: number; completionTokens: number };
  /** When streaming, split each tool call's arguments into pieces of this many characters. */
  argumentChunkSize?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with an HTTP error instead. */
  error?: { status: number; message: string; retryAfterMs?: number };
  /** Never answer; the connection stays open until the client gives up. */
  hang?: boolean;
  /** When streaming, send this many chunks and then go silent. */
  stallAfterChunks?: number;
  /** Answer 200 with this JSON body as it is, not the wire format (one stream event when streaming). */
  rawBody?: string;
  /**
   * An answer without end: content pieces of `pieceChars` characters every `everyMs` (0: as fast
   * as the client reads), streamed or inside one JSON body, until the client hangs up.
   */
  endless?: { pieceChars: number; everyMs: number };
}

/** A chat-completions request as the fake endpoint received it. */
export interface RecordedRequest {
  index: number;
  body: ChatCompletionBody;
  headers: Record<string, string | string[] | undefined>;
  /** For an `endless` reply: bytes written so far, and whether the client closed the connection. */
  sent?: { bytes: number; closedByClient: boolean };
}

/** The subset of the request body the scripts look at. */
export interface ChatCompletionBody {
  model: string;
  stream?: boolean;
  messages: Array<{
    role: string;
    content?: string | null;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
    tool_call_id?: string;
  }>;
  tools?: Array<{ function: { name: string } }>;
  tool_choice?: unknown;
  response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
  stream_options?: { include_usage?: boolean };
}

/** Answers in order, or a function of the request (for concurrent agents, whose order varies). */
export type Script = ScriptedReply[] | ((request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);
