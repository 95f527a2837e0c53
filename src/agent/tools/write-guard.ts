import type { ResolvedPath } from './path-guard.js';
import type { ToolContext } from './tool-context.js';
import { ToolError } from './tool-context.js';

/** What a write is judged against: the subtask's scope and the repository's protected paths. */
export type WriteRules = Pick<ToolContext, 'writeScope' | 'canWrite' | 'protectedPaths'>;

/**
 * Why a write to a protected path (CI, code ownership, Fanout's configuration) or outside the
 * subtask's write scope is refused, in Fanout's words for the model; null when it may land. Both
 * checks apply to where the write really lands (`target.relative`), so an in-scope symbolic link
 * cannot carry a write out of scope. Agent CLIs' hooks get the same message as Fanout's own tools.
 */
export function writeRefusal(target: Pick<ResolvedPath, 'relative' | 'requested'>, rules: WriteRules): string | null {
  const landsOn =
    target.requested === target.relative
      ? `"${target.relative}"`
      : `"${target.requested}" leads (through a symbolic link) to "${target.relative}", which`;
  if (rules.protectedPaths.covers(target.relative)) {
    return (
      `write refused: ${landsOn} is protected: agents never change CI, code ownership or Fanout's own configuration ` +
      `(${rules.protectedPaths.entries.join(', ')}), whatever the write scope. If it must change, say so in your finish summary.`
    );
  }
  if (rules.canWrite(target.relative)) return null;
  return (
    `write refused: ${landsOn} is outside this subtask's write scope (allowed: ${rules.writeScope.join(', ')}). ` +
    'Change only files in the scope; if another file must change, say so in your finish summary.'
  );
}

/** Throws the refusal of `writeRefusal` as a tool error (the model reads it as the tool's result). */
export function assertWritable(target: Pick<ResolvedPath, 'relative' | 'requested'>, context: ToolContext): void {
  const refusal = writeRefusal(target, context);
  if (refusal) throw new ToolError(refusal);
}
