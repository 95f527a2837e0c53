import type { AgentOutcome } from '../../domain/agent-outcome.js';
import { resourceLimitReason, type AgentFailureReason } from '../../domain/failure.js';
import type { AgentBackend, AgentReporter, AgentRequest, CliBinary } from '../../ports/agent-backend.js';
import type { CommandResult, CommandRunner } from '../../ports/command-runner.js';
import type { ToolUse } from '../../ports/model-grants.js';
import { cliAgentPrompt } from '../prompt.js';
import type { CliEvent } from './cli-event.js';
import type { CliAgentSpec } from './cli-spec.js';
import { gatewayRoute } from './gateway-relay.js';
import { LineSplitter } from './line-splitter.js';
import { SessionWatch } from './session-watch.js';

// Characters of a CLI's stdout and stderr kept for the report (the stream itself is read live).
const OUTPUT_LIMIT = 64_000;

/** The turn after a session that changed files outside its scope: the agent is told, and may put them back. */
export function scopeRefusal(paths: readonly string[], writeScope: readonly string[]): string {
  return `Fanout will not commit your changes to these files, which are outside your write scope: ${paths.join(', ')}. Put them back as they were (git show HEAD:<file> > <file>, which works where git's own files are read-only and git checkout does not; or delete a file you created), keep your work inside the write scope (${writeScope.join(', ')}), and end with your summary again. If the subtask truly needs a change there, leave it out and say so in the summary.`;
}

/**
 * Runs an agent CLI (Claude Code, Codex) as one backend: headless in the subtask's worktree through
 * the sandboxing runner, its event stream read live and watched by Fanout's guards (loops, error
 * streaks, no progress, a silent stream, budgets); a stop kills its whole process tree. A session
 * that changed files outside its scope gets one more turn that says so, where the CLI can resume.
 */
export class CliAgentBackend implements AgentBackend {
  readonly name;
  readonly defaultModel;

  constructor(
    private readonly spec: CliAgentSpec,
    readonly binary: CliBinary,
    private readonly runner: CommandRunner,
    /** The node that runs the relay to the gateway inside the sandbox (this process's own). */
    private readonly node = process.execPath,
  ) {
    this.name = spec.name;
    this.defaultModel = spec.defaultModel;
  }

  /** The CLI's hook asks before a tool call: its spec judges it in the CLI's own terms. */
  async reviewToolUse(use: ToolUse, request: AgentRequest): Promise<string | null> {
    return (await this.spec.reviewToolUse?.(use, request)) ?? null;
  }

  async run(request: AgentRequest, events: AgentReporter, signal?: AbortSignal): Promise<AgentOutcome> {
    const started = Date.now();
    const watch = new SessionWatch(request.limits);
    const elapsed = () => Date.now() - started;
    const fail = async (reason: AgentFailureReason, message: string): Promise<AgentOutcome> => {
      await events.event('agent-failed', { reason, message, steps: watch.steps, backend: this.name });
      return {
        kind: 'failed',
        reason,
        message,
        steps: watch.steps,
        tokens: watch.tokens,
        durationMs: elapsed(),
        lastEvents: watch.recent.slice(-8),
      };
    };
    if (!request.model)
      return fail('crashed', `the ${this.name} backend needs Fanout's model gateway, and none was given`);
    await events.event('agent-started', {
      subtask: request.subtask.id,
      backend: this.name,
      version: this.binary.version,
      retry: request.retryHint !== undefined,
      ...(request.feedback ? { fix: true } : {}),
    });
    const before = (await request.worktreeChanges()) ?? new Map<string, string>();
    const prompt = cliAgentPrompt(
      request.subtask,
      request.overallTask,
      request.retryHint,
      request.outline,
      request.feedback,
    );
    let session = await this.session(request, events, watch, { prompt }, signal, started);
    if (session.stopped) return fail(session.stopped.reason, session.stopped.message);
    // The CLI and everything it started share the command's limits: past one, the whole session ends.
    if (session.result.limitExceeded)
      return fail(resourceLimitReason(session.result.limitExceeded), `${this.name} was stopped at a resource limit`);
    let outside = await changedOutsideScope(request, before);
    if (outside.length > 0 && this.spec.canResume && watch.sessionId) {
      await events.event('guard-hint', { step: watch.steps, hint: `outside the write scope: ${outside.join(', ')}` });
      session = await this.session(
        request,
        events,
        watch,
        { prompt: scopeRefusal(outside, request.subtask.writeScope), resume: watch.sessionId },
        signal,
        started,
      );
      if (session.stopped) return fail(session.stopped.reason, session.stopped.message);
      if (session.result.limitExceeded)
        return fail(resourceLimitReason(session.result.limitExceeded), `${this.name} was stopped at a resource limit`);
      outside = await changedOutsideScope(request, before);
    }
    const finished = watch.finished;
    if (!finished)
      return fail(
        'crashed',
        `${this.name} ended without a result (${exitText(session.result)}): ${lastLine(session.result.stderr)}`,
      );
    if (!finished.ok) return fail('model-error', `${this.name} reported an error: ${finished.summary.slice(0, 500)}`);
    const after = (await request.worktreeChanges()) ?? new Map<string, string>();
    const filesChanged = [...after.keys()].filter((path) => before.get(path) !== after.get(path)).sort();
    await events.event('agent-finished', { steps: watch.steps, filesChanged, backend: this.name });
    await events.progress({ step: watch.steps, tokens: watch.tokens });
    return {
      kind: 'succeeded',
      summary: finished.summary.trim() || `${request.subtask.title} (no summary given)`,
      filesChanged,
      // The CLI's own tools and commands wrote: only git can say what changed.
      changesKnown: false,
      steps: watch.steps,
      tokens: watch.tokens,
      durationMs: elapsed(),
    };
  }

  /** One CLI process to its end: its stream read live, stopped when a guard, a budget or the caller says so. */
  private async session(
    request: AgentRequest,
    events: AgentReporter,
    watch: SessionWatch,
    turn: { prompt: string; resume?: string },
    signal: AbortSignal | undefined,
    started: number,
  ): Promise<{ result: CommandResult; stopped?: { reason: AgentFailureReason; message: string } }> {
    const elapsed = () => Date.now() - started;
    const stop = new AbortController();
    let stopped: { reason: AgentFailureReason; message: string } | undefined;
    const cancel = (reason: AgentFailureReason, message: string) => {
      if (stopped) return;
      stopped = { reason, message };
      stop.abort();
    };
    const onAbort = () => cancel('cancelled', 'the run was cancelled');
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // Silence: no line for the stall time, unless a command the model started is still running.
    let silence: NodeJS.Timeout | undefined;
    let ended = false;
    const armSilence = () => {
      clearTimeout(silence);
      if (ended) return;
      const bound = watch.commandRunning ? request.limits.commandTimeoutMs : request.limits.stallMs;
      silence = setTimeout(
        () => cancel('stalled', `${this.name} said nothing for ${Math.round(bound / 1000)} s`),
        Math.max(1, bound),
      );
    };
    const wall = setTimeout(
      () => {
        const verdict = watch.budgets(elapsed());
        cancel(verdict.cancel?.reason ?? 'time-budget', verdict.cancel?.message ?? 'ran out of wall time');
      },
      Math.max(1, request.limits.maxWallMs - elapsed()),
    );
    // Events are handled in order, one at a time, though the stream does not wait for them. After a
    // tool that may have written, git says which files changed: that is progress, as for run_command.
    let snapshot: ReadonlyMap<string, string> | null = null;
    let handling = Promise.resolve();
    const observe = async (event: CliEvent) => {
      if (stopped) return;
      if (event.kind === 'tool-result' && watch.mayWrite(event.id)) {
        const now = await request.worktreeChanges();
        const changed = now && snapshot ? diffChanges(snapshot, now) : [];
        if (now) snapshot = now;
        if (changed.length > 0) {
          watch.noteProgress();
          event = { ...event, changedFiles: changed };
        }
      }
      const effects = watch.observe(event, elapsed());
      // A chunk's silence bound was set before its events were read: a command started or ended since.
      if (event.kind === 'tool-call' || event.kind === 'tool-result') armSilence();
      for (const entry of effects.log) await events.event(entry.type, { ...entry.data, backend: this.name });
      if (event.kind === 'tool-result') await events.progress({ step: watch.steps, tokens: watch.tokens });
      if (effects.cancel) cancel(effects.cancel.reason, effects.cancel.message);
    };
    const session = { worktree: request.worktree.path };
    const parse = this.spec.streamParser?.(request) ?? ((line: string) => this.spec.parseLine?.(line, session) ?? []);
    const handle = (line: string) => {
      for (const event of parse(line)) handling = handling.then(() => observe(event));
    };
    snapshot = await request.worktreeChanges();
    const lines = new LineSplitter();
    armSilence();
    const access = request.model!;
    const route = await gatewayRoute(access, request.home, this.node);
    const invocation = this.spec.invocation({
      prompt: turn.prompt,
      request,
      model: {
        name: access.model,
        credential: access.credential,
        urls: {
          openai: route.origin + access.paths.openai,
          anthropic: route.origin + access.paths.anthropic,
          toolUseHook: route.origin + access.paths.toolUseHook,
        },
        hookCommand: route.hookCommand,
      },
      ...(turn.resume ? { resume: turn.resume } : {}),
    });
    try {
      const result = await this.runner.run({
        argv: route.wrap([this.binary.path, ...invocation.args]),
        cwd: request.worktree.path,
        env: { ...invocation.env, HOME: request.home },
        git: { gitDir: request.worktree.gitDir, commonDir: request.worktree.commonDir },
        network: request.network,
        ...(request.networkAllow ? { networkAllow: request.networkAllow } : {}),
        ...(request.resourceLimits ? { limits: request.resourceLimits } : {}),
        timeoutMs: Math.max(1, request.limits.maxWallMs - elapsed()),
        outputLimit: OUTPUT_LIMIT,
        toolPaths: [...this.binary.installation, ...route.toolPaths],
        signal: stop.signal,
        onStdout: (chunk) => {
          armSilence();
          for (const line of lines.push(chunk)) handle(line);
        },
      });
      for (const line of lines.end()) handle(line);
      await handling;
      return { result, ...(stopped ? { stopped } : {}) };
    } finally {
      ended = true;
      clearTimeout(silence);
      clearTimeout(wall);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Paths whose change signature differs between two looks at the worktree (deleted ones too). */
function diffChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const changed = new Set([...after.keys()].filter((path) => before.get(path) !== after.get(path)));
  for (const path of before.keys()) if (!after.has(path)) changed.add(path);
  return [...changed].sort();
}

/** Paths changed since `before` that the subtask may not write. */
async function changedOutsideScope(request: AgentRequest, before: ReadonlyMap<string, string>): Promise<string[]> {
  const after = (await request.worktreeChanges()) ?? new Map<string, string>();
  return diffChanges(before, after).filter((path) => !request.canWrite(path));
}

function exitText(result: CommandResult): string {
  if (result.timedOut) return 'timed out';
  return result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode ?? 'unknown'}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
}
