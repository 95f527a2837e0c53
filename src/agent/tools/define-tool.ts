import { z } from 'zod';
import type { ToolSpec } from '../../ports/llm.js';
import { ToolError, type ToolContext, type ToolOutcome } from './tool-context.js';

/** A tool as the agent loop sees it: its spec for the model and a runner for raw arguments. */
export interface AgentTool {
  name: string;
  spec: ToolSpec;
  /** Runs commands, bounded by the command timeout; other tools must answer within the stall time. */
  runsCommands: boolean;
  /** Writes files in the worktree, and says which when it succeeds (`changedFiles`). */
  writesFiles: boolean;
  run(rawArguments: string, context: ToolContext): Promise<ToolOutcome>;
}

/**
 * The one way tools are made: zod validates the model's arguments (missing or malformed ones are
 * an error the model sees, never a silent default), failures come back as messages instead of
 * exceptions, and output is capped.
 */
export function defineTool<Schema extends z.ZodType<Record<string, unknown>>>(definition: {
  name: string;
  description: string;
  schema: Schema;
  runsCommands?: boolean;
  writesFiles?: boolean;
  execute: (args: z.infer<Schema>, context: ToolContext) => Promise<ToolOutcome>;
}): AgentTool {
  const parameters = z.toJSONSchema(definition.schema, { io: 'input' }) as Record<string, unknown>;
  delete parameters.$schema;
  return {
    name: definition.name,
    spec: { name: definition.name, description: definition.description, parameters },
    runsCommands: definition.runsCommands === true,
    writesFiles: definition.writesFiles === true,
    async run(rawArguments, context) {
      const outcome = await runTool(rawArguments, context);
      // What a tool read or a command printed goes to the model endpoint: no configured secret may.
      const redact = context.redact ?? ((text: string) => text);
      return outcome.ok ? { ...outcome, output: redact(outcome.output) } : { ...outcome, error: redact(outcome.error) };
    },
  };

  async function runTool(rawArguments: string, context: ToolContext): Promise<ToolOutcome> {
    const text = rawArguments.trim();
    if (text === '') {
      return {
        ok: false,
        error: `${definition.name} needs arguments: a JSON object matching ${JSON.stringify(parameters.properties ?? {})}`,
      };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return {
        ok: false,
        error: `${definition.name} arguments are not valid JSON (${(error as Error).message}): ${text.slice(0, 200)}`,
      };
    }
    const parsed = definition.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((issue) => `${issue.path.map(String).join('.') || '(arguments)'}: ${issue.message}`)
        .join('; ');
      return { ok: false, error: `${definition.name} arguments are invalid: ${issues}` };
    }
    try {
      const outcome = await definition.execute(parsed.data, context);
      return outcome.ok ? { ...outcome, output: capText(outcome.output, context.outputLimit) } : outcome;
    } catch (error) {
      if (error instanceof ToolError) return { ok: false, error: error.message };
      const code = (error as NodeJS.ErrnoException).code;
      return {
        ok: false,
        error: `${definition.name} failed: ${code ? `${code}: ` : ''}${(error as Error).message ?? String(error)}`,
      };
    }
  }
}

/** Cuts text to a limit, keeping the head and tail and saying how much was cut. */
export function capText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = Math.floor(limit * 0.6);
  const tail = limit - head;
  return `${text.slice(0, head)}\n[... ${text.length - limit} characters cut ...]\n${text.slice(text.length - tail)}`;
}
