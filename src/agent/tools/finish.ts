import { z } from 'zod';
import { defineTool } from './define-tool.js';

/** Ends the agent's work with a summary for the pull request. */
export const finishTool = defineTool({
  name: 'finish',
  description: 'Call when the subtask is done. The summary becomes the pull request description: what changed and why.',
  schema: z.object({ summary: z.string().min(1) }).strict(),
  async execute({ summary }) {
    return { ok: true, output: 'finished', finished: { summary } };
  },
});
