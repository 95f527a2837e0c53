import type { ResolvedPath } from './path-guard.js';
import type { ToolContext } from './tool-context.js';
import { ToolError } from './tool-context.js';

/**
 * Refuses a write to a protected path (CI, code ownership, Fanout's configuration) or outside the
 * subtask's write scope. Both checks apply to where the write really lands (`target.relative`), so
 * an in-scope symbolic link cannot carry a write out of scope.
 */
export function assertWritable(target: Pick<ResolvedPath, 'relative' | 'requested'>, context: ToolContext): void {
  const landsOn =
    target.requested === target.relative
      ? `"${target.relative}"`
      : `"${target.requested}" leads (through a symbolic link) to "${target.relative}", which`;
  if (context.protectedPaths.covers(target.relative)) {
    throw new ToolError(
      `write refused: ${landsOn} is protected: agents never change CI, code ownership or Fanout's own configuration ` +
        `(${context.protectedPaths.entries.join(', ')}), whatever the write scope. If it must change, say so in your finish summary.`,
    );
  }
  if (context.canWrite(target.relative)) return;
  throw new ToolError(
    `write refused: ${landsOn} is outside this subtask's write scope (allowed: ${context.writeScope.join(', ')}). ` +
      'Change only files in the scope; if another file must change, say so in your finish summary.',
  );
}
