/** Every error code Fanout raises; stable, so callers branch on it, never on the message. */
export type FanoutErrorCode =
  | 'config-invalid'
  | 'sandbox-unavailable'
  | LlmErrorCode
  | 'structured-output-invalid'
  | 'plan-invalid'
  | WorkspaceErrorCode
  | ForgeErrorCode
  | 'bad-id'
  | 'bad-transition'
  | 'run-not-found'
  | 'subtask-not-found'
  | 'command-not-found'
  | 'no-base-branch'
  | 'nothing-to-approve'
  | 'already-merged'
  | 'usage'
  | 'probe-failed'
  | 'intake-unavailable'
  | 'lease-lost'
  | 'disk-full';

export type WorkspaceErrorCode = 'git-failed' | 'git-timeout' | 'ref-not-found' | 'worktree-not-removed';

/** Base class for every error Fanout raises on purpose; `code` is stable, branch on it, never on text. */
export class FanoutError extends Error {
  constructor(
    readonly code: FanoutErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration (env or .github/fanout.yml); the message names the key. */
export class ConfigError extends FanoutError {
  constructor(message: string) {
    super('config-invalid', message);
  }
}

/** Agent commands cannot be confined the way the configuration asks; no agent is started. */
export class SandboxError extends FanoutError {
  constructor(message: string) {
    super('sandbox-unavailable', message);
  }
}

export type LlmErrorCode =
  | 'llm-unreachable'
  | 'llm-timeout'
  | 'llm-answer-too-large'
  | 'llm-auth'
  | 'llm-model-not-found'
  | 'llm-rate-limited'
  | 'llm-server-error'
  | 'llm-bad-request'
  | 'llm-bad-response'
  | 'llm-aborted';

/** A failed call to the model endpoint, wrapped at the adapter edge. */
export class LlmError extends FanoutError {
  constructor(
    code: LlmErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The model kept answering with output that does not match the schema. */
export class StructuredOutputError extends FanoutError {
  constructor(
    message: string,
    readonly lastAnswer: string,
  ) {
    super('structured-output-invalid', message);
  }
}

/** A plan that cannot be repaired (invalid scopes after replanning, cycles, no subtasks). */
export class PlanError extends FanoutError {
  constructor(message: string) {
    super('plan-invalid', message);
  }
}

/** A git or workspace operation failed. */
export class WorkspaceError extends FanoutError {
  constructor(code: WorkspaceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export type ForgeErrorCode = 'branch-moved' | 'pr-not-found' | 'forge-unavailable' | 'forge-refused' | 'forge-auth';

/** A forge (GitHub, or local records) refused or failed an operation; wrapped at the adapter edge. */
export class ForgeError extends FanoutError {
  constructor(
    code: ForgeErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A lock's lease ran out (its holder could not renew it): someone else may hold the lock now. */
export class LeaseLostError extends FanoutError {
  constructor(name: string) {
    super('lease-lost', `the lock "${name}" was lost (its lease ran out); another process may hold it now`);
  }
}

/**
 * One of Fanout's own writes found no room (ENOSPC, or EDQUOT for a quota): the store, git, the
 * environment cache, the local forge's records. Not a subtask's failure: the run stops, and goes
 * on with `resume` once space is freed.
 */
export class DiskFullError extends FanoutError {
  constructor(
    /** What found no room: "writing <path>", "running git commit-tree in <dir>". */
    readonly doing: string,
    readonly errno: 'ENOSPC' | 'EDQUOT' = 'ENOSPC',
    options?: { cause?: unknown },
  ) {
    super('disk-full', `the disk is full (${errno} while ${doing})`, options);
  }
}
