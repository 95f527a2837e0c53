import type { ScriptedReply } from '../../src/scripted-model/types.js';

/** A scripted model turn that calls one tool. */
export function call(name: string, args: Record<string, unknown>, extra: Partial<ScriptedReply> = {}): ScriptedReply {
  return { toolCalls: [{ name, arguments: args }], ...extra };
}

/** A scripted turn that calls finish. */
export function finish(summary = 'Done.'): ScriptedReply {
  return call('finish', { summary });
}
