import type { AgentTool } from './tools/define-tool.js';
import type { ToolContext, ToolOutcome } from './tools/tool-context.js';

// A command's runner kills it at its timeout and needs a moment to collect it; a tool that has not
// answered even then is stuck, not slow.
const COMMAND_GRACE_MS = 5_000;
const TOOL_GRACE_MS = 1_000;

/** A tool call either answered, or was abandoned when its time ran out. */
export type BoundedToolResult =
  { kind: 'answered'; outcome: ToolOutcome } | { kind: 'overran'; boundMs: number; hitWallTime: boolean };

/**
 * Runs one tool call within what is left of the agent's time: commands get at most the command
 * timeout, other tools the stall time, and neither more than the remaining wall time. The tool's
 * signal is aborted at the bound; if it still has not answered after a grace period it is abandoned,
 * so a tool stuck in the kernel (a FIFO, a hung mount) cannot hold the run forever.
 */
export async function runToolBounded(
  tool: AgentTool,
  rawArguments: string,
  context: ToolContext,
  limits: { stallMs: number; remainingWallMs: number },
): Promise<BoundedToolResult> {
  const ownBound = tool.runsCommands ? context.commandTimeoutMs : limits.stallMs;
  const boundMs = Math.max(1, Math.min(ownBound, limits.remainingWallMs));
  const hitWallTime = limits.remainingWallMs <= ownBound;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), boundMs);
  const signal = context.signal ? AbortSignal.any([context.signal, controller.signal]) : controller.signal;
  let giveUp: NodeJS.Timeout | undefined;
  const abandoned = new Promise<BoundedToolResult>((resolve) => {
    giveUp = setTimeout(
      () => resolve({ kind: 'overran', boundMs, hitWallTime }),
      boundMs + (tool.runsCommands ? COMMAND_GRACE_MS : TOOL_GRACE_MS),
    );
  });
  try {
    const answered = tool
      .run(rawArguments, { ...context, signal, commandTimeoutMs: Math.min(context.commandTimeoutMs, boundMs) })
      .then((outcome): BoundedToolResult => ({ kind: 'answered', outcome }));
    return await Promise.race([answered, abandoned]);
  } finally {
    clearTimeout(timer);
    clearTimeout(giveUp);
  }
}
