/**
 * A compact picture of a repository for the planner: the whole file list when it fits the
 * budget, otherwise directories with file counts and a few names each, shallow first.
 */
export function outlineRepository(files: readonly string[], budgetChars = 6_000): string {
  const full = files.join('\n');
  if (full.length <= budgetChars) return full;
  const byDirectory = new Map<string, string[]>();
  for (const file of files) {
    const slash = file.lastIndexOf('/');
    const directory = slash === -1 ? '.' : file.slice(0, slash);
    const names = byDirectory.get(directory) ?? [];
    names.push(file.slice(slash + 1));
    byDirectory.set(directory, names);
  }
  const depth = (directory: string) => (directory === '.' ? 0 : directory.split('/').length);
  const directories = [...byDirectory.keys()].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  const lines: string[] = [`${files.length} files in ${directories.length} directories (directory: count, sample names)`];
  let used = lines[0]!.length;
  for (const [position, directory] of directories.entries()) {
    const names = byDirectory.get(directory) ?? [];
    const sample = names.slice(0, 6).join(', ') + (names.length > 6 ? ', …' : '');
    const line = `${directory}/ (${names.length}): ${sample}`;
    if (used + line.length + 1 > budgetChars) {
      lines.push(`… ${directories.length - position} more directories not shown`);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines.join('\n');
}
