import type { CheckOutput } from '../../../ports/forge.js';

/** GitHub refuses a check run whose output summary or text is longer than this (characters). */
export const CHECK_TEXT_LIMIT = 65535;

const CUT_HEAD = '…(earlier output cut)\n';
const CUT_TAIL = '\n…(cut)';

/** The last `limit` characters (a command's tail says why it failed), marked as cut. */
export function keepTail(text: string, limit = CHECK_TEXT_LIMIT): string {
  return text.length <= limit ? text : CUT_HEAD + text.slice(text.length - (limit - CUT_HEAD.length));
}

/** The first `limit` characters, marked as cut. */
export function keepHead(text: string, limit = CHECK_TEXT_LIMIT): string {
  return text.length <= limit ? text : text.slice(0, limit - CUT_TAIL.length) + CUT_TAIL;
}

/** A check run's output within GitHub's limits: the summary's head, the text's tail. */
export function checkRunOutput(output: CheckOutput): { title: string; summary: string; text?: string } {
  return {
    title: output.title,
    summary: keepHead(output.summary),
    ...(output.text !== undefined ? { text: keepTail(output.text) } : {}),
  };
}
