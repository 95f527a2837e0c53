import type { RecordedRequest, ScriptedReply } from '../../src/scripted-model/types.js';

export interface BrainScript {
  /** Subtasks the planner answers with. */
  plan: Array<{ id: string; title: string; writeScope: string[]; dependsOn?: string[]; instructions?: string }>;
  /** Turns per subtask title, first attempt. */
  agents: Record<string, ScriptedReply[]>;
  /** Turns per subtask title for the retry (the first message carries a note from the failed attempt). */
  retries?: Record<string, ScriptedReply[]>;
  /** Turns per subtask title for fix attempts (the first message carries what a review or a check asked for). */
  fixes?: Record<string, ScriptedReply[]>;
}

/**
 * A scripted model for whole runs: passes the probe, answers the planner, and plays each agent by
 * its subtask title, since parallel agents' requests arrive in any order. Records agent requests
 * by title for assertions.
 */
export function scriptedBrain(script: BrainScript) {
  const seen: Record<string, number> = {};
  const fixPrompts: Record<string, string[]> = {};
  const reply = (request: RecordedRequest): ScriptedReply => {
    const body = request.body;
    const schema = body.response_format?.json_schema?.name;
    if (body.tools?.some((tool) => tool.function.name === 'record_sum'))
      return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
    if (schema === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
    if (schema === 'plan') {
      const subtasks = script.plan.map((subtask) => ({
        readScope: [],
        dependsOn: [],
        instructions: `Do: ${subtask.title}`,
        ...subtask,
      }));
      return { content: JSON.stringify({ subtasks }) };
    }
    const first = body.messages.find((message) => message.role === 'user')?.content ?? '';
    const title = /Your subtask: (.+)/.exec(first)?.[1]?.trim() ?? '';
    seen[title] = (seen[title] ?? 0) + 1;
    const retry = first.includes('Note from a previous attempt');
    const fix = first.includes('Your earlier work on this subtask is already committed');
    const turn0 = body.messages.filter((message) => message.role === 'assistant').length === 0;
    if (fix && turn0) (fixPrompts[title] ??= []).push(first);
    const turns = fix ? script.fixes?.[title] : ((retry ? script.retries?.[title] : undefined) ?? script.agents[title]);
    if (!turns) return { error: { status: 400, message: `no script for subtask "${title}"` } };
    const turn = body.messages.filter((message) => message.role === 'assistant').length;
    return turns[Math.min(turn, turns.length - 1)] as ScriptedReply;
  };
  return {
    reply,
    requestsFor: (title: string) => seen[title] ?? 0,
    fixPromptsFor: (title: string) => fixPrompts[title] ?? [],
  };
}
