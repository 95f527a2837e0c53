import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CliAgentSpec, CliInvocationInput } from '../cli/cli-spec.js';
import { codexStreamParser } from './codex-events.js';
import { reviewCodexToolUse } from './review-patch.js';

/** The model provider Codex is told about: Fanout's gateway, on the Responses API. */
const PROVIDER = 'fanout';

/**
 * The variable holding the agent's gateway credential, as the provider's `env_key` names it. Not
 * named like a secret: the sandbox drops variables named so (`_KEY`, `_TOKEN`…) from every
 * command's environment, and this one must reach Codex (it is worth nothing but at the gateway).
 */
export const CODEX_CREDENTIAL_VARIABLE = 'FANOUT_GATEWAY_GRANT';

/**
 * A model in Codex 0.171's own catalog (with an unknown name it falls back to metadata that offers
 * no `apply_patch`, and files are written by shell commands) that the gateway's price table prices.
 */
export const CODEX_DEFAULT_MODEL = 'gpt-5.5';

/**
 * `codex exec --json` (Codex CLI 0.171) as a Fanout backend: headless, its model the gateway (the
 * Responses API), no sandbox or approvals of its own (Fanout's sandbox is the boundary), no
 * traffic but the model calls, a PreToolUse hook that asks Fanout about each patch, and
 * `exec resume` for one more turn. docs/agent-clis.md says what each setting is for.
 */
export const codexSpec: CliAgentSpec = {
  name: 'codex',
  canResume: true,
  defaultModel: CODEX_DEFAULT_MODEL,
  invocation(input) {
    const codexHome = join(input.request.home, '.codex');
    // Codex refuses to start when CODEX_HOME does not exist; its sessions live there (for resume).
    mkdirSync(codexHome, { recursive: true });
    return {
      args: codexArguments(input),
      env: { CODEX_HOME: codexHome, [CODEX_CREDENTIAL_VARIABLE]: input.model.credential },
    };
  },
  streamParser: (request) => codexStreamParser(request.worktree.path),
  reviewToolUse: reviewCodexToolUse,
};

function codexArguments({ prompt, model, resume }: CliInvocationInput): string[] {
  const config = (key: string, value: unknown) => ['-c', `${key}=${toml(value)}`];
  const provider = `model_providers.${PROVIDER}`;
  const hook = { type: 'command', command: model.hookCommand.map(shellQuote).join(' ') };
  return [
    'exec',
    ...(resume ? ['resume', resume] : []),
    '--json',
    '--skip-git-repo-check',
    ...config('model_provider', PROVIDER),
    ...config(`${provider}.name`, PROVIDER),
    ...config(`${provider}.base_url`, model.urls.openai),
    ...config(`${provider}.env_key`, CODEX_CREDENTIAL_VARIABLE),
    ...config(`${provider}.wire_api`, 'responses'),
    // `exec resume` has no --sandbox flag: as config, both take it.
    ...config('sandbox_mode', 'danger-full-access'),
    ...config('approval_policy', 'never'),
    // A login shell re-reads /etc/profile and loses the PATH the sandbox gives.
    ...config('allow_login_shell', false),
    // The model's commands never see the credential.
    ...config('shell_environment_policy.exclude', [CODEX_CREDENTIAL_VARIABLE]),
    // No traffic but the model calls: no analytics, no plugin sync from GitHub, no web search.
    ...config('analytics.enabled', false),
    ...config('web_search', 'disabled'),
    ...['plugins', 'apps', 'multi_agent', 'goals', 'image_generation'].flatMap((name) => ['--disable', name]),
    // Hooks from the command line run only with trust bypassed; the hook is Fanout's own.
    '--dangerously-bypass-hook-trust',
    ...config('hooks.PreToolUse', [{ matcher: 'apply_patch|Bash', hooks: [hook] }]),
    '-m',
    model.name,
    prompt,
  ];
}

/** A value as inline TOML (what `-c key=value` parses): JSON's strings, numbers and booleans, bare keys. */
function toml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toml).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, entry]) => `${key}=${toml(entry)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** One word for `sh -c`, quoted whatever it holds. */
function shellQuote(word: string): string {
  return `'${word.replaceAll(`'`, `'\\''`)}'`;
}
