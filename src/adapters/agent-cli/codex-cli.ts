import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CliRequirement } from './locate-cli.js';

// The platform packages of @openai/codex, by Node's platform and architecture, with the target
// directory under their vendor/ (as the package's launcher, bin/codex.js, finds them).
const NATIVE: Record<string, { packageName: string; target: string }> = {
  'linux-x64': { packageName: '@openai/codex-linux-x64', target: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { packageName: '@openai/codex-linux-arm64', target: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { packageName: '@openai/codex-darwin-x64', target: 'x86_64-apple-darwin' },
  'darwin-arm64': { packageName: '@openai/codex-darwin-arm64', target: 'aarch64-apple-darwin' },
};

/** Codex CLI: `codex`, or FANOUT_CODEX_PATH; tested with 0.171. */
export const CODEX_CLI: CliRequirement = {
  backend: 'codex',
  command: 'codex',
  variable: 'FANOUT_CODEX_PATH',
  versions: { min: '0.171.0', below: '0.172.0' },
  install: 'Install it with `npm install -g @openai/codex@0.171.0`',
  parseVersion: (output) => /codex-cli (\d+\.\d+\.\d+)/.exec(output)?.[1] ?? null,
  resolve: resolveCodexBinary,
};

/**
 * The native binary to run and the directory it runs from. npm's `codex` is a Node launcher that
 * finds the platform package's static binary and, on Node 20, stays resident as its parent: Fanout
 * runs the binary itself (one process less, and no Node needed in the sandbox). The binary's
 * directory's parent holds `codex-path/` (its bundled `rg`), so that is what the sandbox shows.
 */
export function resolveCodexBinary(found: string): { path: string; installation: string[] } {
  const real = realpathSync(found);
  const native = real.endsWith('.js') ? launcherTarget(real) : real;
  if (!native) return { path: real, installation: [dirname(dirname(real))] };
  const vendor = dirname(dirname(native));
  return { path: native, installation: [existsSync(join(vendor, 'codex-path')) ? vendor : dirname(native)] };
}

/** The native binary the npm launcher at `launcher` would run, or null when its package is missing. */
function launcherTarget(launcher: string): string | null {
  const platform = NATIVE[`${process.platform}-${process.arch}`];
  if (!platform) return null;
  try {
    const manifest = createRequire(launcher).resolve(`${platform.packageName}/package.json`);
    const binary = join(dirname(manifest), 'vendor', platform.target, 'bin', 'codex');
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}
