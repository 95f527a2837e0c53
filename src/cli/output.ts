import type { SecretRedactor } from '../domain/redactor.js';

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

/** Output that redacts every configured secret before printing: terminals are logged and shared. */
export function redactingOutput(output: Output, redactor: SecretRedactor): Output {
  return {
    out: (text) => output.out(redactor.text(text)),
    err: (text) => output.err(redactor.text(text)),
  };
}
