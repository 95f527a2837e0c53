/**
 * Paths no agent may write, whatever its write scope says (even `**`). Agents must never change CI
 * (a workflow runs with the repository's secrets and can approve or merge) or Fanout's own
 * configuration (validation commands, approval mode, budgets): either would let a subtask rewrite
 * the rules it is checked against.
 */
const PROTECTED_FILES = ['.github/fanout.yml'];
const PROTECTED_DIRECTORIES = ['.github/workflows'];

/** True when a repository-relative path is CI or Fanout configuration, which agents never write. */
export function isProtectedPath(relativePath: string): boolean {
  // Lower case: on a case-insensitive filesystem `.GitHub/Workflows/x.yml` is the same file.
  const path = relativePath
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/')
    .toLowerCase();
  if (PROTECTED_FILES.includes(path)) return true;
  return PROTECTED_DIRECTORIES.some((directory) => path === directory || path.startsWith(`${directory}/`));
}

/** The protected paths as scope-like entries, for messages to the model and to people. */
export const PROTECTED_PATH_ENTRIES: readonly string[] = [
  ...PROTECTED_DIRECTORIES.map((directory) => `${directory}/**`),
  ...PROTECTED_FILES,
];
