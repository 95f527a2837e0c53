import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { AGENT_BACKEND_NAMES } from '../domain/agent-backend.js';
import { BUDGET_DEFAULTS, GUARD_DEFAULTS } from '../domain/agent-defaults.js';
import { ConfigError } from '../domain/errors.js';
import { parseNetworkAllowEntry } from '../domain/network-allow.js';
import { RESOURCE_LIMIT_DEFAULTS } from '../domain/resource-limits.js';
import { byteSize } from './byte-size.js';
import { formatIssues } from './format-issues.js';

const ValidateCommandSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((run) => ({ run, timeoutSeconds: 600 })),
  z
    .object({
      run: z.string().trim().min(1),
      timeoutSeconds: z.number().int().positive().max(7200).default(600),
      // Run only when the pull request touches one of these paths (globs): a README-only change
      // need not pay for the whole test suite.
      paths: z.array(z.string().trim().min(1)).min(1).optional(),
    })
    .strict(),
]);

// Installs can be slow on a cold cache; a setup that hangs still ends.
const SetupCommandSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .transform((run) => ({ run, timeoutSeconds: 1800 })),
  z
    .object({
      run: z.string().trim().min(1),
      timeoutSeconds: z.number().int().positive().max(7200).default(1800),
    })
    .strict(),
]);

const CopyEntrySchema = z
  .string()
  .trim()
  .min(1)
  .superRefine((entry, context) => {
    const problem = copyEntryProblem(entry);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

const ProtectedEntrySchema = z
  .string()
  .trim()
  .min(1)
  .superRefine((entry, context) => {
    const problem = protectedEntryProblem(entry);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

const NetworkAllowEntrySchema = z
  .string()
  .trim()
  .min(1)
  .superRefine((entry, context) => {
    const parsed = parseNetworkAllowEntry(entry);
    if ('problem' in parsed) context.addIssue({ code: 'custom', message: parsed.problem });
  });
const AgentBackendSchema = z.enum(AGENT_BACKEND_NAMES, {
  error: () => `must be one of: ${AGENT_BACKEND_NAMES.join(', ')}`,
});

// `agent: claude-code`, or `agent: { backend: claude-code, model: claude-sonnet-4-5 }`.
const AgentSchema = z.union([
  AgentBackendSchema.transform((backend): { backend: typeof backend; model?: string } => ({ backend })),
  z.object({ backend: AgentBackendSchema, model: z.string().trim().min(1).optional() }).strict(),
]);

const RepoConfigSchema = z
  .object({
    validate: z.array(ValidateCommandSchema).default([]),
    // Absent: Fanout detects the package manager and installs; [] turns preparation off.
    setup: z.array(SetupCommandSchema).optional(),
    copy: z.array(CopyEntrySchema).max(100).default([]),
    maxAgents: z.number().int().min(1).max(16).default(4),
    maxSubtasks: z.number().int().min(1).max(32).default(4),
    approval: z.enum(['auto', 'manual']).default('auto'),
    // The base commit is validated before any agent: red stops the run (required), or each pull
    // request is judged only on what passed on the base (allow-red).
    baseline: z.enum(['required', 'allow-red']).default('required'),
    // How pull requests land: squash (one commit per subtask carrying its PR number), merge or
    // rebase; on GitHub, one the repository allows if it does not allow this one.
    mergeMethod: z.enum(['merge', 'squash', 'rebase']).default('squash'),
    // Where the forge has CI (GitHub) and the base branch requires no check by name, how long a
    // head waits for the repository's CI to appear before it may merge without (0: not at all).
    waitForChecksSeconds: z.number().int().min(0).max(3600).default(60),
    // review: the plan is posted and agents wait for `/orchestrate approve`.
    plan: z.enum(['auto', 'review']).default('auto'),
    // Reviews and red checks go back to the agent on the same pull request, at most this many
    // times per pull request; past it, a person takes over (0 turns fix attempts off).
    maxFixAttempts: z.number().int().min(0).max(10).default(2),
    // A red check starts a fix attempt with its output. Absent: yes on GitHub (reviews and CI
    // arrive while nobody watches), no locally (`fanout fix` asks for one).
    fixOnRedCheck: z.boolean().optional(),
    // Bot accounts whose reviews count (a code-review bot), by login such as `reviewer[bot]`;
    // other bots' reviews are ignored.
    reviewBots: z.array(z.string().trim().min(1)).max(20).default([]),
    // Agent and validation commands reach no network unless the repository says they need it.
    network: z.boolean().default(false),
    // More paths no agent may write (globs, `dir/`, paths), added to DEFAULT_PROTECTED_PATHS: a
    // repository can protect more, never less.
    protectedPaths: z.array(ProtectedEntrySchema).max(100).default([]),
    // What networked commands (setup, and all under `network: true`) may reach beyond the
    // internet: private ranges and this machine's services are closed to them otherwise.
    networkAllow: z.array(NetworkAllowEntrySchema).max(100).default([]),
    model: z.string().trim().min(1).optional(),
    // Which agent does each subtask's work: Fanout's own loop, or an agent CLI under its guards.
    agent: AgentSchema.default({ backend: 'builtin' }),
    guards: z
      .object({
        repeatHintAt: z.number().int().min(2).default(GUARD_DEFAULTS.repeatHintAt),
        repeatCancelAt: z.number().int().min(2).default(GUARD_DEFAULTS.repeatCancelAt),
        noProgressHintAfter: z.number().int().min(1).default(GUARD_DEFAULTS.noProgressHintAfter),
        noProgressCancelAfter: z.number().int().min(1).default(GUARD_DEFAULTS.noProgressCancelAfter),
        errorStreak: z.number().int().min(1).default(GUARD_DEFAULTS.errorStreak),
        stallSeconds: z.number().int().min(5).max(3600).default(GUARD_DEFAULTS.stallSeconds),
      })
      .strict()
      .refine((guards) => guards.repeatCancelAt > guards.repeatHintAt, {
        message: 'repeatCancelAt must be greater than repeatHintAt',
        path: ['repeatCancelAt'],
      })
      .refine((guards) => guards.noProgressCancelAfter > guards.noProgressHintAfter, {
        message: 'noProgressCancelAfter must be greater than noProgressHintAfter',
        path: ['noProgressCancelAfter'],
      })
      .optional(),
    // USD per million tokens, over the model gateway's built-in table (a model missing from both
    // has its tokens counted and its cost reported unknown).
    prices: z
      .record(
        z.string().trim().min(1),
        z
          .object({
            input: z.number().nonnegative(),
            output: z.number().nonnegative(),
            cachedInput: z.number().nonnegative().optional(),
            cacheWrite: z.number().nonnegative().optional(),
          })
          .strict(),
      )
      .default({}),
    // Each agent's: steps and minutes per attempt; tokens and dollars (at the gateway) across the
    // subtask's attempts, retries and fix attempts. No dollar limit unless set: prices may be unknown.
    budgets: z
      .object({
        maxSteps: z.number().int().min(1).max(500).default(BUDGET_DEFAULTS.maxSteps),
        maxMinutes: z.number().positive().max(240).default(BUDGET_DEFAULTS.maxMinutes),
        maxTokens: z.number().int().positive().default(BUDGET_DEFAULTS.maxTokens),
        maxUsd: z.number().positive().optional(),
      })
      .strict()
      .default({ ...BUDGET_DEFAULTS }),
    // The whole run's, over all its agents (the single-agent fallback and fix attempts included);
    // minutes from the run's start. None unless set.
    runBudgets: z
      .object({
        maxTokens: z.number().int().positive().optional(),
        maxUsd: z.number().positive().optional(),
        maxMinutes: z
          .number()
          .positive()
          .max(7 * 24 * 60)
          .optional(),
      })
      .strict()
      .default({}),
    // What each agent, setup and validation command may take (see README, Security).
    limits: z
      .object({
        processes: z.number().int().min(16).max(1_000_000).default(RESOURCE_LIMIT_DEFAULTS.processes),
        memory: byteSize({ min: 64 * 1024 ** 2, max: 1024 ** 4 }).default(RESOURCE_LIMIT_DEFAULTS.memory),
        fileSize: byteSize({ min: 1024 ** 2, max: 1024 ** 4 }).default(RESOURCE_LIMIT_DEFAULTS.fileSize),
        disk: byteSize({ min: 16 * 1024 ** 2, max: 16 * 1024 ** 4 }).default(RESOURCE_LIMIT_DEFAULTS.disk),
      })
      .strict()
      .default({ ...RESOURCE_LIMIT_DEFAULTS }),
  })
  .strict();

/** The per-repository `.github/fanout.yml`, validated, with defaults filled in. */
export type RepoConfig = z.infer<typeof RepoConfigSchema>;

/** Where the repository configuration lives. */
export const REPO_CONFIG_PATH = '.github/fanout.yml';

/** Parses `.github/fanout.yml` text (null when the file is absent); errors name the bad key. */
export function parseRepoConfig(text: string | null): RepoConfig {
  let raw: unknown = {};
  if (text !== null) {
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      const detail = error instanceof YAMLParseError ? error.message : String(error);
      throw new ConfigError(`${REPO_CONFIG_PATH} is not valid YAML: ${detail}`);
    }
  }
  const result = RepoConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`${REPO_CONFIG_PATH} is invalid:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Why a `protectedPaths:` entry is refused, or null: paths or globs inside the repository. A
 * leading `!` is refused: the list only adds, and a negation would read as an exception.
 */
export function protectedEntryProblem(entry: string): string | null {
  if (entry.startsWith('!')) return `"${entry}" starts with "!": protectedPaths only adds paths, it cannot exempt any`;
  if (entry.includes('\\')) return `"${entry}" has a backslash; use / between directories`;
  if (entry.startsWith('/') || entry.startsWith('~') || /^[A-Za-z]:/.test(entry))
    return `"${entry}" is absolute; name paths inside the repository`;
  if (entry.split('/').some((part) => part === '..')) return `"${entry}" leaves the repository through ..`;
  return null;
}

/**
 * Why a `copy:` entry is refused, or null: entries are paths or globs inside the repository,
 * never absolute, never through `..`, never into `.git`.
 */
export function copyEntryProblem(entry: string): string | null {
  if (entry.includes('\\')) return `"${entry}" has a backslash; use / between directories`;
  if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry))
    return `"${entry}" is absolute; name paths inside the repository`;
  if (entry.startsWith(':')) return `"${entry}" starts with ":" (git pathspec magic is not allowed)`;
  const parts = entry.split('/');
  if (parts.some((part) => part === '..')) return `"${entry}" leaves the repository through ..`;
  if (parts.some((part) => part.toLowerCase() === '.git')) return `"${entry}" names .git, which is never copied`;
  return null;
}
