// C0 and C1 control characters except tab and newline: an agent-chosen file name or message must
// not move the cursor, rewrite a line ("all merged") or set the clipboard (OSC 52) in a terminal.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text safe to print or post: control characters shown as `�`. */
export function plainText(text: string): string {
  return text.replace(CONTROL, '\ufffd');
}
