import { realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { CliRequirement } from './locate-cli.js';

// npm's package ships `bin/claude.exe` as a shell stub of about 500 bytes that its postinstall
// replaces with the native binary (hundreds of MB); anything this small is still the stub.
const STUB_BYTES = 1_000_000;

/** Claude Code: `claude`, or FANOUT_CLAUDE_CODE_PATH; tested with 2.1.x. */
export const CLAUDE_CODE_REQUIREMENT: CliRequirement = {
  backend: 'claude-code',
  command: 'claude',
  variable: 'FANOUT_CLAUDE_CODE_PATH',
  versions: { min: '2.1.0', below: '2.2.0' },
  install: 'Install it with `npm install -g @anthropic-ai/claude-code@2.1`',
  // `2.1.337 (Claude Code)`
  parseVersion: (output) => /^\s*(\d+\.\d+\.\d+)\s+\(Claude Code\)/.exec(output)?.[1] ?? null,
  resolve(found) {
    const path = realpathSync(found);
    const native = statSync(path).size < STUB_BYTES ? platformBinary(path) : null;
    const binary = native ?? path;
    return { path: binary, installation: [dirname(binary)] };
  },
};

/**
 * The platform package's binary beside the npm package whose stub was found (installed with
 * scripts disabled, `npm ci --ignore-scripts`, the stub never got replaced): null when there is none.
 */
function platformBinary(stub: string): string | null {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  const musl = process.platform === 'linux' && report.header?.glibcVersionRuntime === undefined ? '-musl' : '';
  const name = `@anthropic-ai/claude-code-${process.platform}-${process.arch}${musl}`;
  try {
    return `${dirname(createRequire(stub).resolve(`${name}/package.json`))}/claude`;
  } catch {
    return null;
  }
}
