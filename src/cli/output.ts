/** Where commands print; tests pass a collector instead of the process streams. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Output to the process's stdout and stderr. */
export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};
