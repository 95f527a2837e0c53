/** Keeps the head and the tail of a stream within a character limit; the tail matters most for errors. */
export class OutputCollector {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly limit: number) {}

  get truncated(): boolean {
    return this.dropped > 0;
  }

  push(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    const headLimit = Math.floor(this.limit / 4);
    if (this.head.length < headLimit) {
      const room = headLimit - this.head.length;
      this.head += text.slice(0, room);
      this.addTail(text.slice(room));
      return;
    }
    this.addTail(text);
  }

  text(): string {
    if (this.dropped === 0) return this.head + this.tail;
    return `${this.head}\n[... ${this.dropped} characters cut ...]\n${this.tail}`;
  }

  private addTail(text: string): void {
    if (text === '') return;
    const tailLimit = this.limit - Math.floor(this.limit / 4);
    this.tail += text;
    if (this.tail.length > tailLimit) {
      this.dropped += this.tail.length - tailLimit;
      this.tail = this.tail.slice(this.tail.length - tailLimit);
    }
  }
}
