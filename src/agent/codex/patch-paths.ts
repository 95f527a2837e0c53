// The header lines of Codex's patch format that name a file the patch writes: `*** Add File: p`,
// `*** Update File: p`, `*** Delete File: p`, and `*** Move to: p` (an update's new name).
const FILE_HEADER = /^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+)$/;

/** Every path an `apply_patch` patch adds, updates, deletes or moves a file to, as written in it. */
export function patchPaths(patch: string): string[] {
  const paths: string[] = [];
  for (const line of patch.split('\n')) {
    const match = FILE_HEADER.exec(line.replace(/\r$/, ''));
    const path = match?.[1]?.trim();
    if (path && !paths.includes(path)) paths.push(path);
  }
  return paths;
}
