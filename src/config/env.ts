import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { FAILPOINTS, type FailpointName } from '../domain/failpoint.js';
import { formatIssues } from './format-issues.js';

// `2m` or `1e3.5` must name the variable and the form it takes, not "expected number, received NaN".
const positiveInt = (fallback: number, unit: string) =>
  z.coerce
    .number({ message: `must be a whole number of ${unit}, such as ${fallback}` })
    .int({ message: `must be a whole number of ${unit}, such as ${fallback}` })
    .positive({ message: `must be a whole number of ${unit} above 0, such as ${fallback}` })
    .default(fallback);

const EnvSchema = z.object({
  OPENAI_API_KEY: z.string().trim().min(1).optional(),
  // With its scheme: `localhost:8080/v1` would otherwise parse as a URL of scheme "localhost".
  OPENAI_BASE_URL: z
    .url({
      protocol: /^https?$/,
      message: 'must be an http:// or https:// URL such as https://api.openai.com/v1 or http://localhost:11434/v1',
    })
    .default('https://api.openai.com/v1'),
  // Anthropic's messages API, for agents that speak it (Claude Code) through the gateway, and for
  // the planner when no OpenAI key is set.
  ANTHROPIC_API_KEY: z.string().trim().min(1).optional(),
  ANTHROPIC_BASE_URL: z
    .url({
      protocol: /^https?$/,
      message: 'must be an http:// or https:// URL such as https://api.anthropic.com',
    })
    .default('https://api.anthropic.com'),
  // Unset: the provider's default (gpt-4.1-mini, or a current Claude Sonnet with only ANTHROPIC_API_KEY).
  FANOUT_MODEL: z.string().trim().min(1, 'must not be empty').optional(),
  // One answer, start to end: the wait for it and its whole stream.
  FANOUT_LLM_TIMEOUT_MS: positiveInt(120_000, 'milliseconds'),
  FANOUT_LLM_IDLE_TIMEOUT_MS: positiveInt(60_000, 'milliseconds'),
  // One answer's body as it comes off the wire; past it the request is cut off (4 MiB by default,
  // far above any plan or tool call, far below what would exhaust memory).
  FANOUT_LLM_MAX_ANSWER_BYTES: positiveInt(4 * 1024 * 1024, 'bytes'),
  FANOUT_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  FANOUT_LLM_STREAM: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  // Where the agent CLIs are (default: found on PATH, then Fanout's own dev install).
  FANOUT_CLAUDE_CODE_PATH: z.string().trim().min(1).optional(),
  FANOUT_CODEX_PATH: z.string().trim().min(1).optional(),
  FANOUT_STATE_DIR: z.string().trim().min(1).optional(),
  FANOUT_WORKTREE_DIR: z.string().trim().min(1).optional(),
  FANOUT_SANDBOX: z.enum(['auto', 'bwrap', 'none'], { message: 'must be auto, bwrap or none' }).default('auto'),
  // `none` as root lets agent commands rewrite system files: refused unless accepted here (a throwaway VM).
  FANOUT_ALLOW_ROOT_NONE: z
    .enum(['1', '0', 'true', 'false'], { message: 'must be 1 or 0' })
    .default('0')
    .transform((value) => value === '1' || value === 'true'),
  // GitHub App settings, under Probot's names. The private key and webhook secret are kept as
  // given, not trimmed: whitespace in a secret is part of it.
  APP_ID: z.string().trim().regex(/^\d+$/, 'must be the numeric App ID').optional(),
  PRIVATE_KEY: z.string().min(1).optional(),
  PRIVATE_KEY_PATH: z.string().trim().min(1).optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  GITHUB_TOKEN: z.string().trim().min(1).optional(),
  // The App's server (`fanout serve`), as Probot names them.
  // 0 picks a free port (tests).
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).optional(),
  WEBHOOK_PATH: z.string().trim().startsWith('/', 'must start with /').default('/api/github/webhooks'),
  GHE_HOST: z
    .string()
    .trim()
    .min(1)
    .regex(/^[^/:]+(:\d+)?$/, 'must be a host name such as github.example.com')
    .optional(),
  GHE_PROTOCOL: z.enum(['https', 'http'], { message: 'must be https or http' }).default('https'),
  // Octokit spaces writes to GitHub a second apart (its secondary rate limits); a GitHub
  // Enterprise Server without them (or a test's fake) can turn that off.
  FANOUT_GITHUB_THROTTLE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
      message: 'must be trace, debug, info, warn, error or fatal',
    })
    .default('info'),
  // The App's slug (its bot is `<slug>[bot]`); read from GitHub at start when unset.
  APP_SLUG: z.string().trim().min(1).optional(),
  // The fault suite's kill switch: Fanout SIGKILLs itself at this point of a run.
  FANOUT_FAILPOINT: z
    .enum(FAILPOINTS as [FailpointName, ...FailpointName[]], { message: `must be one of ${FAILPOINTS.join(', ')}` })
    .optional(),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379' })
    .optional(),
  // Namespaces every key and queue, so several deployments or tests share one Redis.
  FANOUT_REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . or -')
    .default('fanout'),
  // Several machines: a worker killed mid-job loses it to another worker after about this long.
  FANOUT_JOB_LOCK_MS: positiveInt(30_000, 'milliseconds'),
  // Several machines: a run's or merge queue's lock whose holder died is free again after this long.
  FANOUT_LOCK_TTL_MS: positiveInt(10_000, 'milliseconds'),
  // Several machines: agents running at once across every worker (per repository: `maxAgents`).
  FANOUT_MAX_AGENTS: z.coerce
    .number({ message: 'must be a whole number of agents, such as 32' })
    .int({ message: 'must be a whole number of agents, such as 32' })
    .positive({ message: 'must be a whole number of agents above 0, such as 32' })
    .optional(),
});

/** Settings read from the environment, validated. */
export type Env = z.infer<typeof EnvSchema>;

/** Validates the environment; throws a ConfigError listing every bad variable by name. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings mean "unset" for optional variables, as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(`Invalid environment:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}
