// Codex's `apply_patch` input (its own patch format, not a unified diff), for scripted turns.

/** A patch that creates `path` with `content`. */
export function addFilePatch(path: string, content: string): string {
  return patchOf([`*** Add File: ${path}`, ...lines(content).map((line) => `+${line}`)]);
}

/** A patch that replaces the whole of `path`, `before` (its lines as they are) by `after`. */
export function replaceFilePatch(path: string, before: string, after: string): string {
  return patchOf([
    `*** Update File: ${path}`,
    '@@',
    ...lines(before).map((line) => `-${line}`),
    ...lines(after).map((line) => `+${line}`),
  ]);
}

function patchOf(body: string[]): string {
  return ['*** Begin Patch', ...body, '*** End Patch', ''].join('\n');
}

function lines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}
