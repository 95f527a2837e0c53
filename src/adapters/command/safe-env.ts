import { isSecretName } from '../../domain/secrets.js';

// Variables a build or test command may legitimately need from the host.
const PASSED_THROUGH = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TERM', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'];

/** An environment built from an allowlist of host variables plus extras, with every secret-named variable dropped. */
export function safeEnvironment(
  extra: Record<string, string> = {},
  host: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.CI = 'true';
  env.GIT_TERMINAL_PROMPT = '0';
  for (const [name, value] of Object.entries(extra)) env[name] = value;
  for (const name of Object.keys(env)) if (isSecretName(name)) delete env[name];
  return env;
}
