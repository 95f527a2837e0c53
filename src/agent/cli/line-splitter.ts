/** Splits a stream of text chunks into whole lines (a CLI's JSON-lines output); the rest waits for more. */
export class LineSplitter {
  private pending = '';

  /** The whole lines this chunk completes, without their line ends. */
  push(chunk: string): string[] {
    const text = this.pending + chunk;
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
  }

  /** What is left once the stream ended (a last line without a line end). */
  end(): string[] {
    const rest = this.pending.trim();
    this.pending = '';
    return rest ? [rest] : [];
  }
}
