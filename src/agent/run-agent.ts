import type { Subtask } from '../domain/plan.js';
import { DiskFullError, LlmError } from '../domain/errors.js';
import { resourceLimitReason } from '../domain/failure.js';
import type { ChatMessage, ChatResult, Llm } from '../ports/llm.js';
import { runToolBounded } from './bounded-tool-call.js';
import { trimConversation } from './context.js';
import {
  callKey,
  initialGuardState,
  judgeBudgets,
  judgeStep,
  judgeToolCall,
  silenceBound,
  type AgentFailureReason,
  type GuardVerdict,
} from './guards.js';
import type { AgentLimits } from './limits.js';
import type { AgentOutcome, TokenTotals } from '../domain/agent-outcome.js';
import { agentSystemPrompt, agentTaskMessage } from './prompt.js';
import type { AgentReporter } from './reporter.js';
import type { AgentTool } from './tools/define-tool.js';
import type { ToolContext, ToolOutcome } from './tools/tool-context.js';

export interface RunAgentInput {
  llm: Llm;
  subtask: Subtask;
  overallTask?: string;
  tools: readonly AgentTool[];
  context: ToolContext;
  limits: AgentLimits;
  reporter: AgentReporter;
  retryHint?: string;
  /** A compact picture of the repository, so the agent need not explore it blind. */
  outline?: string;
  /** What a review or a failed check asked to fix (a fix attempt on an open pull request). */
  feedback?: string;
  signal?: AbortSignal;
}

/** Commands stopped at a resource limit in one attempt that fail it (the first is a tool error the model sees). */
export const RESOURCE_LIMIT_HITS = 2;

class Cancel {
  constructor(
    readonly reason: AgentFailureReason,
    readonly message: string,
  ) {}
}

/**
 * The built-in agent: a tool-calling loop over the Llm port, watched by guards (repeats, no
 * progress, error streaks, stalls, budgets). It never throws for an expected failure; it returns
 * an AgentOutcome.
 */
export async function runAgent(input: RunAgentInput): Promise<AgentOutcome> {
  const { limits, reporter } = input;
  const started = Date.now();
  const tokens: TokenTotals = { prompt: 0, completion: 0 };
  let guard = initialGuardState();
  const recent: string[] = [];
  const changed = new Set<string>();
  let changesKnown = true;
  const toolsByName = new Map(input.tools.map((tool) => [tool.name, tool]));
  const messages: ChatMessage[] = [
    { role: 'system', content: agentSystemPrompt() },
    {
      role: 'user',
      content: agentTaskMessage(input.subtask, input.overallTask, input.retryHint, input.outline, input.feedback),
    },
  ];
  let step = 0;
  let finishRefused = false;
  // The first command stopped at a resource limit is the model's to correct; the second ends the attempt.
  let limitHits = 0;
  const elapsed = () => Date.now() - started;
  const fail = async (reason: AgentFailureReason, message: string): Promise<AgentOutcome> => {
    await reporter.event('agent-failed', { reason, message, steps: step });
    return {
      kind: 'failed',
      reason,
      message,
      steps: step,
      tokens,
      durationMs: elapsed(),
      lastEvents: recent.slice(-8),
    };
  };

  await reporter.event('agent-started', {
    subtask: input.subtask.id,
    backend: 'builtin',
    retry: input.retryHint !== undefined,
    ...(input.feedback ? { fix: true } : {}),
  });
  try {
    for (;;) {
      if (input.signal?.aborted) return await fail('cancelled', 'the run was cancelled');
      const budget = judgeBudgets(limits, {
        steps: step,
        elapsedMs: elapsed(),
        tokens: tokens.prompt + tokens.completion,
      });
      if (budget.kind === 'cancel') return await fail(budget.reason, budget.message);
      step += 1;

      const result = await callModel(input, messages, limits, Math.max(limits.maxWallMs - elapsed(), 1));
      tokens.prompt += result.usage?.promptTokens ?? 0;
      tokens.completion += result.usage?.completionTokens ?? 0;
      await reporter.event('model-call', { step, toolCalls: result.toolCalls.length, usage: result.usage });
      messages.push({
        role: 'assistant',
        content: result.content,
        ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}),
      });

      const hints: string[] = [];
      let madeProgress = false;
      let lastTool: string | undefined;
      if (result.toolCalls.length === 0) {
        recent.push(`step ${step}: answered without a tool call`);
        const judged = judgeToolCall(guard, limits, { name: '(no tool)', key: `text:${step}`, ok: false });
        guard = judged.state;
        const verdict = judged.verdict;
        if (verdict.kind === 'cancel') return await fail(verdict.reason, verdict.message);
        hints.push('Use the tools to do the work, and call finish with a summary when you are done.');
      }
      for (const call of result.toolCalls) {
        lastTool = call.name;
        const tool = toolsByName.get(call.name);
        if (tool && elapsed() >= limits.maxWallMs)
          throw new Cancel('time-budget', `ran out of wall time (${Math.round(limits.maxWallMs / 1000)} s)`);
        const bounded = tool
          ? await runToolBounded(tool, call.arguments, input.context, {
              ...silenceBound(limits, elapsed()),
            })
          : undefined;
        if (bounded?.kind === 'overran') {
          if (input.signal?.aborted) throw new Cancel('cancelled', 'the run was cancelled');
          if (bounded.hitWallTime)
            throw new Cancel(
              'time-budget',
              `ran out of wall time (${Math.round(limits.maxWallMs / 1000)} s) in ${call.name}`,
            );
          throw new Cancel('stalled', `${call.name} did not return within ${(bounded.boundMs / 1000).toFixed(1)} s`);
        }
        const outcome: ToolOutcome = bounded
          ? bounded.outcome
          : ({
              ok: false,
              error: `unknown tool "${call.name}"; the tools are: ${[...toolsByName.keys()].join(', ')}`,
            } as const);
        if (outcome.ok && outcome.finished) {
          if (changed.size === 0 && !finishRefused) {
            finishRefused = true;
            messages.push({
              role: 'tool',
              toolCallId: call.id,
              content:
                'error: you have not changed any file yet. Make the change the subtask asks for, then call finish. If truly nothing needs to change, call finish again and explain why.',
            });
            continue;
          }
          await reporter.event('tool-call', { step, tool: call.name, ok: true });
          await reporter.event('agent-finished', { steps: step, filesChanged: [...changed] });
          await reporter.progress({ step, lastTool: call.name, tokens });
          return {
            kind: 'succeeded',
            summary: outcome.finished.summary,
            filesChanged: [...changed].sort(),
            changesKnown,
            steps: step,
            tokens,
            durationMs: elapsed(),
          };
        }
        // A command can write anywhere in the worktree, and a failed write may have written part.
        if (tool && (tool.runsCommands || (tool.writesFiles && !outcome.ok))) changesKnown = false;
        for (const file of outcome.ok ? (outcome.changedFiles ?? []) : []) {
          changed.add(file);
          madeProgress = true;
        }
        messages.push({
          role: 'tool',
          toolCallId: call.id,
          content: outcome.ok ? outcome.output : `error: ${outcome.error}`,
        });
        const description = `${call.name} ${call.arguments.slice(0, 120)}${outcome.ok ? '' : ` -> error: ${outcome.error.slice(0, 160)}`}`;
        recent.push(description);
        await reporter.event('tool-call', {
          step,
          tool: call.name,
          arguments: call.arguments.slice(0, 300),
          ok: outcome.ok,
          ...(outcome.ok ? {} : { error: outcome.error.slice(0, 500) }),
        });
        if (!outcome.ok && outcome.limitExceeded) {
          limitHits += 1;
          if (limitHits >= RESOURCE_LIMIT_HITS)
            return await fail(resourceLimitReason(outcome.limitExceeded), outcome.error.split('\n')[0]!);
        }
        const judged = judgeToolCall(guard, limits, {
          name: call.name,
          key: callKey(call.name, call.arguments),
          ok: outcome.ok,
        });
        guard = judged.state;
        const verdict = judged.verdict;
        if (verdict.kind === 'cancel') return await fail(verdict.reason, verdict.message);
        collectHint(verdict, hints);
      }
      const stepJudged = judgeStep(guard, limits, madeProgress);
      guard = stepJudged.state;
      const stepVerdict = stepJudged.verdict;
      if (stepVerdict.kind === 'cancel') return await fail(stepVerdict.reason, stepVerdict.message);
      collectHint(stepVerdict, hints);
      for (const hint of hints) {
        await reporter.event('guard-hint', { step, hint });
        messages.push({ role: 'user', content: `[fanout] ${hint}` });
      }
      await reporter.progress({ step, ...(lastTool ? { lastTool } : {}), tokens });
    }
  } catch (error) {
    if (error instanceof Cancel) return await fail(error.reason, error.message);
    if (error instanceof LlmError) return await fail('model-error', error.message);
    // Fanout's own write (the event log) found no room: the run stops, not just this agent.
    if (error instanceof DiskFullError) throw error;
    return await fail('crashed', `the agent crashed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function collectHint(verdict: GuardVerdict, hints: string[]): void {
  if (verdict.kind === 'hint') hints.push(verdict.text);
}

/** One model call, aborted when it stalls, when the wall-time budget ends, or when the run is cancelled. */
async function callModel(
  input: RunAgentInput,
  messages: ChatMessage[],
  limits: AgentLimits,
  remainingMs: number,
): Promise<ChatResult> {
  const stall = AbortSignal.timeout(Math.max(1, Math.floor(limits.stallMs)));
  // Timers take whole milliseconds; budgets left over after earlier attempts need not be.
  const wall = AbortSignal.timeout(Math.max(1, Math.floor(remainingMs)));
  const signals = [stall, wall, ...(input.signal ? [input.signal] : [])];
  try {
    return await input.llm.chat({
      messages: trimConversation(messages, limits.keepRecentToolResults),
      tools: input.tools.map((tool) => tool.spec),
      toolChoice: 'auto',
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    if (input.signal?.aborted) throw new Cancel('cancelled', 'the run was cancelled');
    if (stall.aborted) throw new Cancel('stalled', `no step completed for ${Math.round(limits.stallMs / 1000)} s`);
    if (wall.aborted)
      throw new Cancel('time-budget', `ran out of wall time (${Math.round(limits.maxWallMs / 1000)} s)`);
    throw error;
  }
}
