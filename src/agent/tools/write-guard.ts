import type { ToolContext } from './tool-context.js';
import { ToolError } from './tool-context.js';

/** Refuses a write outside the subtask's write scope, naming the scope so the model can adjust. */
export function assertWritable(relativePath: string, context: ToolContext): void {
  if (context.canWrite(relativePath)) return;
  throw new ToolError(
    `write refused: "${relativePath}" is outside this subtask's write scope (allowed: ${context.writeScope.join(', ')}). ` +
      'Change only files in the scope; if another file must change, say so in your finish summary.',
  );
}
