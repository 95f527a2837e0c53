import {
  isRecord,
  mergeAnthropicCounts,
  usageFromApi,
  type AnthropicCounts,
  type MeteredApi,
  type ModelUsage,
} from './model-usage.js';
import { SseSplitter } from './sse-splitter.js';

/** What a metered answer said about itself: its token usage and the model that answered. */
export interface MeterReading {
  usage: ModelUsage | null;
  model: string | null;
}

/** Reads usage from an answer's bytes as they pass, without holding them back. */
export interface AnswerMeter {
  write(chunk: Buffer): void;
  /** The answer ended (or was cut): what was read. */
  end(): MeterReading;
}

/** A meter for an answer of this API and content type: streamed events, or one JSON body. */
export function answerMeter(api: MeteredApi, contentType: string | undefined): AnswerMeter {
  return contentType?.includes('text/event-stream') ? new StreamMeter(api) : new JsonMeter(api);
}

// Only the final body is needed, but it must be whole to be parsed; the gateway's answer cap
// bounds it.
class JsonMeter implements AnswerMeter {
  private readonly chunks: Buffer[] = [];

  constructor(private readonly api: MeteredApi) {}

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  end(): MeterReading {
    const body = parseJson(Buffer.concat(this.chunks).toString('utf8'));
    if (!isRecord(body)) return { usage: null, model: null };
    return { usage: usageFromApi(this.api, body.usage), model: stringOrNull(body.model) };
  }
}

// Events that can carry usage are parsed; the many text deltas are skipped by a substring test.
class StreamMeter implements AnswerMeter {
  private readonly splitter: SseSplitter;
  private usage: ModelUsage | null = null;
  private model: string | null = null;
  private anthropic: AnthropicCounts = {};

  constructor(private readonly api: MeteredApi) {
    this.splitter = new SseSplitter((_name, data) => this.event(data));
  }

  write(chunk: Buffer): void {
    this.splitter.write(chunk);
  }

  end(): MeterReading {
    this.splitter.end();
    if (this.api === 'anthropic-messages') this.usage = usageFromApi(this.api, this.anthropic);
    return { usage: this.usage, model: this.model };
  }

  private event(data: string): void {
    if (this.api === 'openai-chat') return this.chatChunk(data);
    if (this.api === 'openai-responses') return this.responsesEvent(data);
    return this.anthropicEvent(data);
  }

  // With stream_options.include_usage, the last chunk carries `usage` (earlier ones say null).
  private chatChunk(data: string): void {
    if (!data.includes('"usage"')) return;
    const chunk = parseJson(data);
    if (!isRecord(chunk) || !isRecord(chunk.usage)) return;
    this.usage = usageFromApi(this.api, chunk.usage);
    this.model = stringOrNull(chunk.model) ?? this.model;
  }

  // response.created names the model; response.completed (or .incomplete, .failed) carries usage.
  private responsesEvent(data: string): void {
    if (!RESPONSE_EVENTS.some((type) => data.includes(type))) return;
    const event = parseJson(data);
    if (!isRecord(event) || !isRecord(event.response)) return;
    this.model = stringOrNull(event.response.model) ?? this.model;
    if (event.type !== 'response.created' && isRecord(event.response.usage)) {
      this.usage = usageFromApi(this.api, event.response.usage);
    }
  }

  // message_start has the input counts, each message_delta the output so far.
  private anthropicEvent(data: string): void {
    if (!data.includes('"message_start"') && !data.includes('"message_delta"')) return;
    const event = parseJson(data);
    if (!isRecord(event)) return;
    if (event.type === 'message_start' && isRecord(event.message)) {
      this.model = stringOrNull(event.message.model) ?? this.model;
      this.anthropic = mergeAnthropicCounts(this.anthropic, event.message.usage);
    } else if (event.type === 'message_delta') {
      this.anthropic = mergeAnthropicCounts(this.anthropic, event.usage);
    }
  }
}

const RESPONSE_EVENTS = ['"response.created"', '"response.completed"', '"response.incomplete"', '"response.failed"'];

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
