import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a server-sent event stream into events as its bytes arrive, holding only the line in
 * progress and the event being built (never the whole stream). Lines end in \n, \r\n or \r, as
 * the SSE specification allows, wherever the chunks happen to break.
 */
export class SseSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pieces: string[] = [];
  private name = '';
  private data: string[] = [];
  // The last chunk ended in \r: a \n opening the next one belongs to that line end.
  private afterCr = false;

  constructor(private readonly onEvent: (name: string, data: string) => void) {}

  /** Feeds the next bytes of the stream. */
  write(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = this.afterCr && text.startsWith('\n') ? 1 : 0;
    this.afterCr = false;
    let cr = text.indexOf('\r', start);
    while (start < text.length) {
      const lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      this.line(this.pieces.length > 0 ? this.pieces.join('') + text.slice(start, end) : text.slice(start, end));
      this.pieces = [];
      if (end === cr && text[end + 1] === '\n') start = end + 2;
      else {
        start = end + 1;
        if (end === cr && start === text.length) this.afterCr = true;
      }
    }
    if (start < text.length) this.pieces.push(text.slice(start));
  }

  /** The stream ended: an event left without its blank line still counts. */
  end(): void {
    const rest = this.pieces.join('') + this.decoder.end();
    this.pieces = [];
    if (rest !== '') this.line(rest);
    this.line('');
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent(this.name, this.data.join('\n'));
      this.name = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.name = value;
  }
}
