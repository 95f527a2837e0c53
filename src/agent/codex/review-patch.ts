import type { AgentRequest } from '../../ports/agent-backend.js';
import type { ToolUse } from '../../ports/model-grants.js';
import { reviewWrite } from '../cli/write-review.js';
import { patchPaths } from './patch-paths.js';

/**
 * Fanout's answer to Codex's PreToolUse hook: an `apply_patch` that writes any path outside the
 * subtask's write scope, a protected path, or outside the worktree is refused whole, each path
 * judged where it lands (as every agent's writes are, in Fanout's words), with a reason the model
 * reads as the tool's output. Shell commands run: what they change is checked when the session
 * ends, and at commit.
 */
export async function reviewCodexToolUse(use: ToolUse, request: AgentRequest): Promise<string | null> {
  if (use.tool !== 'apply_patch') return null;
  const patch = typeof use.input.command === 'string' ? use.input.command : '';
  const refusals: string[] = [];
  for (const written of patchPaths(patch)) {
    const refusal = await reviewWrite(written, request);
    if (refusal) refusals.push(refusal);
  }
  if (refusals.length === 0) return null;
  return `Fanout refused this patch, and nothing of it was applied: ${refusals.join(' ')}`;
}
