import type { AgentFailureReason } from '../../domain/failure.js';
import type { AgentLimits } from '../../domain/agent-limits.js';
import type { TokenTotals } from '../../domain/agent-outcome.js';
import { callKey, initialGuardState, judgeBudgets, judgeStep, judgeToolCall, type GuardState } from '../guards.js';
import { COMMAND_TOOLS, READ_ONLY_TOOLS, type CliEvent } from './cli-event.js';

/** What the watch tells its driver after an event: a log line to record, and whether to stop the CLI. */
export interface WatchEffects {
  /** Events for the agent's log, in order. */
  log: Array<{ type: 'model-call' | 'tool-call' | 'guard-hint'; data: Record<string, unknown> }>;
  /** Stop the CLI: a guard or a budget ended the attempt. */
  cancel?: { reason: AgentFailureReason; message: string };
}

interface PendingCall {
  tool: string;
  arguments: Record<string, unknown>;
}

/**
 * Watches one CLI session's events with the built-in agent's guards (pure: no I/O, no clock of its
 * own): identical or cyclic tool calls, error streaks, steps without a file change, and the step,
 * time and token budgets. The driver feeds it events and acts on its effects.
 */
export class SessionWatch {
  private guard: GuardState = initialGuardState();
  private readonly pending = new Map<string, PendingCall>();
  private progressSinceStep = false;
  private stepOpen = false;
  /** Whether any model call said what it used (else a session's closing sum is the count). */
  private callsReportUsage = false;
  readonly tokens: TokenTotals = { prompt: 0, completion: 0 };
  steps = 0;
  sessionId: string | undefined;
  finished: Extract<CliEvent, { kind: 'finished' }> | undefined;
  /** Short lines describing the last tool calls, for reports and retry hints. */
  readonly recent: string[] = [];

  constructor(private readonly limits: AgentLimits) {}

  /** Whether a command the model started is still running (its silence is work, not a stall). */
  get commandRunning(): boolean {
    return [...this.pending.values()].some((call) => COMMAND_TOOLS.has(call.tool));
  }

  /** Whether a pending tool call may have written files (a write tool, a command, or one of the CLI's own). */
  mayWrite(id: string): boolean {
    const call = this.pending.get(id);
    return call !== undefined && !READ_ONLY_TOOLS.has(call.tool);
  }

  /** Files changed since the last step: progress, which resets the no-progress guard at the next step. */
  noteProgress(): void {
    this.progressSinceStep = true;
  }

  /** Judges one event at `elapsedMs` into the session. */
  observe(event: CliEvent, elapsedMs: number): WatchEffects {
    const effects: WatchEffects = { log: [] };
    switch (event.kind) {
      case 'session-started':
        this.sessionId = event.sessionId;
        return effects;
      case 'model-call':
        return this.modelCall(event, elapsedMs, effects);
      case 'tool-call':
        this.pending.set(event.id, { tool: event.tool, arguments: event.arguments });
        return effects;
      case 'tool-result':
        return this.toolResult(event, effects);
      case 'finished':
        this.finished = event;
        // A CLI that sums usage only when a session ends: each session's sum adds up, or the
        // thread's sum (Codex's) is the count.
        if (event.usage && !this.callsReportUsage) {
          const base = event.usageOfThread ? { prompt: 0, completion: 0 } : this.tokens;
          this.tokens.prompt = base.prompt + event.usage.promptTokens;
          this.tokens.completion = base.completion + event.usage.completionTokens;
        }
        return effects;
    }
  }

  /** Judges the budgets at a moment without an event (a timer: wall time). */
  budgets(elapsedMs: number): WatchEffects {
    const verdict = judgeBudgets(this.limits, {
      steps: this.steps,
      elapsedMs,
      tokens: this.tokens.prompt + this.tokens.completion,
    });
    return verdict.kind === 'cancel'
      ? { log: [], cancel: { reason: verdict.reason, message: verdict.message } }
      : { log: [] };
  }

  private modelCall(event: Extract<CliEvent, { kind: 'model-call' }>, elapsedMs: number, effects: WatchEffects) {
    // The step before this answer ends here: did it change a file?
    if (this.stepOpen) {
      const judged = judgeStep(this.guard, this.limits, this.progressSinceStep);
      this.guard = judged.state;
      if (judged.verdict.kind === 'cancel') return { ...effects, cancel: judged.verdict };
      if (judged.verdict.kind === 'hint')
        effects.log.push({ type: 'guard-hint', data: { step: this.steps, hint: judged.verdict.text } });
    }
    this.progressSinceStep = false;
    this.stepOpen = true;
    this.steps += 1;
    if (event.usage) this.callsReportUsage = true;
    this.tokens.prompt += event.usage?.promptTokens ?? 0;
    this.tokens.completion += event.usage?.completionTokens ?? 0;
    effects.log.push({ type: 'model-call', data: { step: this.steps, usage: event.usage } });
    const budget = this.budgets(elapsedMs);
    return budget.cancel ? { ...effects, cancel: budget.cancel } : effects;
  }

  private toolResult(event: Extract<CliEvent, { kind: 'tool-result' }>, effects: WatchEffects): WatchEffects {
    const call = this.pending.get(event.id);
    if (!call) return effects;
    this.pending.delete(event.id);
    if ((event.changedFiles?.length ?? 0) > 0) this.progressSinceStep = true;
    const rawArguments = JSON.stringify(call.arguments);
    effects.log.push({
      type: 'tool-call',
      data: {
        step: this.steps,
        tool: call.tool,
        arguments: rawArguments.slice(0, 300),
        ok: event.ok,
        ...(event.ok ? {} : { error: (event.error ?? 'failed').slice(0, 500) }),
      },
    });
    this.recent.push(
      `${call.tool} ${rawArguments.slice(0, 120)}${event.ok ? '' : ` -> error: ${(event.error ?? 'failed').slice(0, 160)}`}`,
    );
    const judged = judgeToolCall(this.guard, this.limits, {
      name: call.tool,
      key: callKey(call.tool, rawArguments),
      ok: event.ok,
    });
    this.guard = judged.state;
    if (judged.verdict.kind === 'cancel') return { ...effects, cancel: judged.verdict };
    if (judged.verdict.kind === 'hint')
      effects.log.push({ type: 'guard-hint', data: { step: this.steps, hint: judged.verdict.text } });
    return effects;
  }
}
