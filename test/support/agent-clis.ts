import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The command lines and environments below are the ones docs/agent-clis.md describes and the
// tests prove; the claude-code and codex backends are built from them.

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The versions pinned in package.json (devDependencies). */
export const PINNED = { claude: '2.1.337', codex: '0.171.0' } as const;

/**
 * The `claude` native binary: node_modules/.bin/claude once the package's postinstall has copied
 * the platform binary over its placeholder; with scripts disabled (`--ignore-scripts`), the
 * placeholder is a 500-byte shell stub, so the platform package's binary is used directly.
 */
export function claudeBinary(): string {
  const bin = join(root, 'node_modules', '.bin', 'claude');
  if (statSync(bin).size > 1_000_000) return bin;
  const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
    ?.glibcVersionRuntime;
  const musl = process.platform === 'linux' && glibc === undefined ? '-musl' : '';
  return join(packageDir(`@anthropic-ai/claude-code-${process.platform}-${process.arch}${musl}`), 'claude');
}

/** The `codex` launcher (a Node script that execs the platform package's native binary). */
export function codexBinary(): string {
  return join(root, 'node_modules', '.bin', 'codex');
}

/** A PATH with this Node first (hooks are Node scripts; the codex launcher is one too). */
export function toolPath(): string {
  return [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
}

/** The tools Claude Code offers the model: its file tools and its shell, nothing that reaches out. */
export const CLAUDE_TOOLS = ['Bash', 'Edit', 'Write', 'Read', 'Glob', 'Grep'];

/** A `--settings` document: permissions answered by configuration, optional hooks. */
export interface ClaudeSettings {
  permissions: { allow: string[] };
  hooks?: Record<string, Array<{ matcher?: string; hooks: Array<Record<string, unknown>> }>>;
}

/** Settings that allow every offered tool (Fanout's sandbox is the boundary), plus `hooks`. */
export function claudeSettings(hooks?: ClaudeSettings['hooks']): ClaudeSettings {
  return { permissions: { allow: [...CLAUDE_TOOLS] }, ...(hooks ? { hooks } : {}) };
}

/** `claude -p` headless, stream JSON, the model and settings given, project settings ignored. */
export function claudeArguments(options: {
  prompt: string;
  model: string;
  settings: ClaudeSettings;
  resume?: string;
  maxTurns?: number;
}): string[] {
  return [
    '-p',
    options.prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    '--model',
    options.model,
    '--tools',
    CLAUDE_TOOLS.join(','),
    '--settings',
    JSON.stringify(options.settings),
    // A repository's own .claude/settings*.json could deny tools or add permissions: ignored.
    '--setting-sources',
    '',
    '--strict-mcp-config',
    '--disable-slash-commands',
    // Anything that would still ask a person is refused instead of waiting.
    '--permission-prompts',
    'none',
    ...(options.resume ? ['--resume', options.resume] : []),
    ...(options.maxTurns ? ['--max-turns', String(options.maxTurns)] : []),
  ];
}

/** Claude Code's environment: only what it needs; no traffic but the model calls. */
export async function claudeEnvironment(options: { home: string; baseUrl: string; apiKey: string }) {
  const tmp = join(options.home, 'tmp');
  await mkdir(tmp, { recursive: true });
  return {
    PATH: toolPath(),
    HOME: options.home,
    TMPDIR: tmp,
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: options.apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
}

/** The provider id Codex is told about; its key comes from FANOUT_MODEL_KEY. */
const CODEX_PROVIDER = 'fanout';

/** `codex exec --json` (or `exec resume <id>`) against one Responses endpoint, no sandbox of its own. */
export function codexArguments(options: {
  prompt: string;
  model: string;
  baseUrl: string;
  resume?: string;
  /** `[hooks]` entries (PreToolUse…); they run only with hook trust bypassed. */
  hooks?: Record<string, unknown>;
}): string[] {
  const config = (key: string, value: unknown) => ['-c', `${key}=${JSON.stringify(value)}`];
  const provider = `model_providers.${CODEX_PROVIDER}`;
  return [
    'exec',
    ...(options.resume ? ['resume', options.resume] : []),
    '--json',
    '--skip-git-repo-check',
    ...config('model_provider', CODEX_PROVIDER),
    ...config(`${provider}.name`, CODEX_PROVIDER),
    ...config(`${provider}.base_url`, options.baseUrl),
    ...config(`${provider}.env_key`, 'FANOUT_MODEL_KEY'),
    ...config(`${provider}.wire_api`, 'responses'),
    // Retries are the gateway's business; a refusal reaches Codex once.
    ...config(`${provider}.request_max_retries`, 0),
    ...config(`${provider}.stream_max_retries`, 0),
    // Fanout's sandbox is the boundary (`exec resume` has no --sandbox flag, so config it is).
    ...config('sandbox_mode', 'danger-full-access'),
    ...config('approval_policy', 'never'),
    // A login shell re-reads /etc/profile and loses the PATH Fanout gives.
    ...config('allow_login_shell', false),
    // Commands never see the model credential.
    ...config('shell_environment_policy.exclude', ['FANOUT_MODEL_KEY']),
    // No traffic but the model calls: no analytics, no curated-plugin sync from GitHub.
    ...config('analytics.enabled', false),
    ...config('web_search', 'disabled'),
    ...['plugins', 'apps', 'multi_agent', 'goals', 'image_generation'].flatMap((name) => ['--disable', name]),
    ...(options.hooks ? ['--dangerously-bypass-hook-trust', ...tomlHooks(options.hooks)] : []),
    '-m',
    options.model,
    options.prompt,
  ];
}

/** Hooks as `-c hooks.<Event>=<inline TOML>` (JSON arrays and tables are valid inline TOML once keys are bare). */
function tomlHooks(hooks: Record<string, unknown>): string[] {
  const toml = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(toml).join(',')}]`;
    if (value && typeof value === 'object') {
      return `{${Object.entries(value)
        .map(([key, entry]) => `${key}=${toml(entry)}`)
        .join(',')}}`;
    }
    return JSON.stringify(value);
  };
  return Object.entries(hooks).flatMap(([event, groups]) => ['-c', `hooks.${event}=${toml(groups)}`]);
}

/** Codex's environment: a private CODEX_HOME (it must exist) and the credential under FANOUT_MODEL_KEY. */
export async function codexEnvironment(options: { home: string; apiKey: string }) {
  const codexHome = join(options.home, '.codex');
  await mkdir(codexHome, { recursive: true });
  return { PATH: toolPath(), HOME: options.home, CODEX_HOME: codexHome, FANOUT_MODEL_KEY: options.apiKey };
}

/** What a CLI printed and how it ended. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout's JSON lines, parsed. */
  events: Array<Record<string, unknown>>;
  stderr: string;
}

/**
 * Runs a CLI to its end with stdin closed (an open stdin makes codex wait for it forever and
 * claude for 3 s) in its own process group. The deadline is a safety net that kills the group.
 */
export function runCli(
  binary: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; deadlineMs?: number },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(`${binary} still running after ${options.deadlineMs ?? 20_000} ms; stderr: ${stderr.slice(-2000)}`),
      );
    }, options.deadlineMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, signal, events, stderr });
    });
  });
}
