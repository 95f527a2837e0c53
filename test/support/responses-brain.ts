import {
  responsesAnswerCount,
  responsesUserTexts,
  type ResponsesBody,
} from '../../src/scripted-model/responses-wire.js';
import { answer, type RecordedCall, type ScriptedTurn } from '../../src/scripted-model/turns.js';

/**
 * A scripted Responses model for whole runs with Codex agents: each agent is played by its
 * subtask's title (parallel agents' requests arrive in any order), turn by turn as its history
 * grows. A subtask without a script is told so (and its agent ends).
 */
export function responsesBrain(agents: Record<string, ScriptedTurn[]>) {
  const seen: Record<string, number> = {};
  const reply = (call: RecordedCall<ResponsesBody>): ScriptedTurn => {
    const title = /Your subtask: (.+)/.exec(responsesUserTexts(call.body).join('\n'))?.[1]?.trim() ?? '';
    seen[title] = (seen[title] ?? 0) + 1;
    const turns = agents[title];
    if (!turns) return answer(`No script for the subtask "${title}".`);
    return turns[Math.min(responsesAnswerCount(call.body), turns.length - 1)]!;
  };
  return { reply, callsFor: (title: string) => seen[title] ?? 0 };
}
