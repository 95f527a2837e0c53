import { MIN_SECRET_LENGTH, REDACTED, redactTokenShapes } from './secrets.js';

/**
 * Removes the secrets Fanout holds from text before it is stored, printed or posted. It knows the
 * configured values (API key, App private key, webhook secret, tokens) and the ones learned later
 * (`add`, for installation tokens), each with the encodings under which it could show up in text;
 * it also catches well-known token shapes. Values shorter than MIN_SECRET_LENGTH are ignored.
 */
export class SecretRedactor {
  private readonly needles = new Set<string>();
  private pattern: RegExp | null = null;

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Treats `value` as a secret from now on (with its encodings); short or empty values are ignored. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    for (const form of encodings(value)) {
      // Too short to be told apart from ordinary text (a PEM's last line, say).
      if (form.length < MIN_SECRET_LENGTH || this.needles.has(form)) continue;
      this.needles.add(form);
      this.pattern = null;
    }
  }

  /** The text with every known secret and token shape replaced by "[redacted]". */
  text(text: string): string {
    const pattern = this.compiled();
    return redactTokenShapes(pattern ? text.replace(pattern, REDACTED) : text);
  }

  /**
   * A copy of `value` with every string in it redacted, through plain objects and arrays, keeping
   * the structure. Object keys are kept as they are (two keys redacted alike would collide), and
   * anything that is not a string, array or plain object is returned unchanged.
   */
  deep<T>(value: T): T {
    return redactDeep(value, (text) => this.text(text)) as T;
  }

  private compiled(): RegExp | null {
    if (this.needles.size === 0) return null;
    // Longest first: where a whole PEM key and one of its lines both match, the key wins.
    this.pattern ??= new RegExp(
      [...this.needles]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return this.pattern;
  }
}

/** The forms under which a secret can appear in text Fanout handles. */
function encodings(value: string): string[] {
  const forms = new Set<string>();
  // As configured, trimmed (a key file ends in a newline), and with literal "\n" turned into line
  // breaks (a PEM key pasted into one environment variable line, as Probot accepts it).
  for (const base of new Set([value, value.trim(), value.replace(/\\n/g, '\n').trim()])) {
    forms.add(base);
    forms.add(JSON.stringify(base).slice(1, -1)); // inside a JSON string: line breaks become \n
    forms.add(encodeURIComponent(base)); // in a URL
    forms.add(Buffer.from(base).toString('base64'));
    forms.add(Buffer.from(`x-access-token:${base}`).toString('base64')); // git's HTTP basic auth header
  }
  // Part of a multi-line secret (a PEM key) may be shown: each line, and the body on one line.
  const lines = value
    .replace(/\\n/g, '\n')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('-----'));
  if (lines.length > 1) {
    for (const line of lines) forms.add(line);
    forms.add(lines.join(''));
  }
  return [...forms];
}

function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = redactDeep(item, redact);
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
