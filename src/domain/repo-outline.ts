import { fitText, outlineTree } from './outline-tree.js';
import { createScopeMatcher, parseScopeEntry } from './scope.js';
import type { WorkspacePackage } from './workspace-packages.js';

// The planner's picture of the repository (it has nothing else to go on).
export const PLANNER_OUTLINE_CHARS = 6_000;
// An agent's: enough to name the files of its part and the shape of the rest.
export const AGENT_OUTLINE_CHARS = 3_000;
// At most this share of the planner's outline goes to the package list; the tree gets the rest.
const PACKAGE_LIST_SHARE = 0.6;

/**
 * A compact picture of a repository: the whole file list when it fits the budget, otherwise a
 * directory tree that shows every top-level directory and spreads the rest of the budget evenly.
 */
export function outlineRepository(files: readonly string[], budgetChars = PLANNER_OUTLINE_CHARS): string {
  const full = files.join('\n');
  if (full.length <= budgetChars) return full;
  return outlineTree(files, budgetChars);
}

/**
 * The planner's outline: the workspace packages (path, ecosystem, name, file count), then the
 * files, or a tree in which every top-level directory and every package has a line. Without
 * packages it is outlineRepository.
 */
export function outlineForPlanner(
  files: readonly string[],
  packages: readonly WorkspacePackage[],
  budgetChars = PLANNER_OUTLINE_CHARS,
): string {
  if (packages.length === 0) return outlineRepository(files, budgetChars);
  const list = packageList(packages, Math.floor(budgetChars * PACKAGE_LIST_SHARE));
  const heading = '\n\nFiles:\n';
  const allowance = budgetChars - list.text.length - heading.length;
  const full = files.join('\n');
  const body =
    full.length <= allowance ? full : outlineTree(files, allowance, { packages, listedElsewhere: list.listed });
  return fitText(`${list.text}${heading}${body}`, budgetChars);
}

/** What outlineForSubtask needs of a subtask: its normalized scope entries. */
export interface SubtaskScopes {
  writeScope: readonly string[];
  readScope: readonly string[];
}

interface Section {
  heading: string;
  files: readonly string[];
  share: number;
}

/**
 * One agent's outline, centred on its scopes: the files of its write scope, its read scope, and
 * its surroundings (the package it works in, the files beside its scope) in full when they fit,
 * then the rest of the repository as a tree; each part summarized as a tree when it does not
 * fit its share. A repository whose whole file list fits gets the whole list.
 */
export function outlineForSubtask(
  files: readonly string[],
  subtask: SubtaskScopes,
  packages: readonly WorkspacePackage[],
  budgetChars = AGENT_OUTLINE_CHARS,
): string {
  const full = files.join('\n');
  if (full.length <= budgetChars) return full;
  const inWrite = createScopeMatcher(subtask.writeScope);
  const inRead = createScopeMatcher(subtask.readScope);
  const homes = containingPackages(subtask.writeScope, packages);
  const beside = neighbourDirectories(subtask.writeScope);
  const isAround = (path: string) => beside.has(parentOf(path)) || homes.some((pkg) => path.startsWith(`${pkg.path}/`));
  const write: string[] = [];
  const read: string[] = [];
  const around: string[] = [];
  const rest: string[] = [];
  for (const file of files) {
    if (inWrite(file)) write.push(file);
    else if (inRead(file)) read.push(file);
    else if (isAround(file)) around.push(file);
    else rest.push(file);
  }
  const home = homes.map((pkg) => `${pkg.path}/${pkg.name ? ` (${pkg.name})` : ''}`).join(', ');
  const sections: Section[] = [
    {
      heading:
        write.length > 0 ? `In your write scope (${fileCount(write.length)}):` : 'In your write scope: no files yet.',
      files: write,
      share: 0.45,
    },
    { heading: `In your read scope (${fileCount(read.length)}):`, files: read, share: 0.15 },
    {
      heading: `Around your scope${home ? `, in package ${home}` : ''} (${fileCount(around.length)}):`,
      files: around,
      share: 0.2,
    },
    { heading: `Elsewhere in the repository (${fileCount(rest.length)}):`, files: rest, share: 0.2 },
  ].filter((section, position) => position === 0 || section.files.length > 0);
  return fitText(renderSections(sections, packages, budgetChars), budgetChars);
}

/** Sections in order, each within its share plus what earlier ones left; the last takes what remains. */
function renderSections(
  sections: readonly Section[],
  packages: readonly WorkspacePackage[],
  budgetChars: number,
): string {
  const totalShare = sections.reduce((sum, section) => sum + (section.files.length > 0 ? section.share : 0), 0);
  const parts: string[] = [];
  let used = 0;
  let carry = 0;
  for (const [position, section] of sections.entries()) {
    const separator = parts.length > 0 ? 2 : 0;
    const overhead = separator + section.heading.length + 1;
    const last = position === sections.length - 1;
    const share = totalShare > 0 ? (section.files.length > 0 ? section.share / totalShare : 0) : 0;
    const allowance = last ? budgetChars - used - overhead : Math.floor(share * budgetChars) + carry - overhead;
    const body = section.files.length > 0 ? listOrTree(section.files, allowance, packages) : '';
    const text = body ? `${section.heading}\n${body}` : section.heading;
    parts.push(text);
    used += separator + text.length;
    carry = Math.max(0, allowance - body.length);
  }
  return parts.join('\n\n');
}

function listOrTree(files: readonly string[], budgetChars: number, packages: readonly WorkspacePackage[]): string {
  if (budgetChars <= 0) return '';
  const full = files.join('\n');
  return full.length <= budgetChars ? full : outlineTree(files, budgetChars, { packages });
}

/** The packages list within the budget, and which package directories it names. */
function packageList(
  packages: readonly WorkspacePackage[],
  budgetChars: number,
): { text: string; listed: ReadonlySet<string> } {
  const lines = [`Workspace packages (${packages.length}):`];
  const listed = new Set<string>();
  // Room for the "more packages" line, should it be needed.
  let remaining = budgetChars - lines[0]!.length - 40;
  for (const pkg of packages) {
    // A name that repeats the directory's last segment says nothing new.
    const name = pkg.name && pkg.name !== pkg.path.slice(pkg.path.lastIndexOf('/') + 1) ? ` ${pkg.name}` : '';
    const line = `${pkg.path}/ (${pkg.ecosystem}${name}, ${fileCount(pkg.fileCount)})`;
    if (line.length + 1 > remaining) break;
    lines.push(line);
    listed.add(pkg.path);
    remaining -= line.length + 1;
  }
  if (listed.size < packages.length)
    lines.push(`… ${packages.length - listed.size} more packages (marked in the tree below when room allows)`);
  return { text: lines.join('\n'), listed };
}

/** For each write entry, the deepest package it lies in. */
function containingPackages(writeScope: readonly string[], packages: readonly WorkspacePackage[]): WorkspacePackage[] {
  const homes = new Map<string, WorkspacePackage>();
  for (const entry of writeScope) {
    const path = entryPath(entry);
    const home = packages
      .filter((pkg) => path === pkg.path || path.startsWith(`${pkg.path}/`))
      .reduce<WorkspacePackage | undefined>(
        (deepest, pkg) => (!deepest || pkg.path.length > deepest.path.length ? pkg : deepest),
        undefined,
      );
    if (home) homes.set(home.path, home);
  }
  return [...homes.values()];
}

/** The directories whose own files sit beside the write scope: each entry's parent directory. */
function neighbourDirectories(writeScope: readonly string[]): ReadonlySet<string> {
  return new Set(
    writeScope.map((entry) => (parseScopeEntry(entry).kind === 'glob' ? entryPath(entry) : parentOf(entryPath(entry)))),
  );
}

/** The path an entry names: a file's or directory's path, or a glob's static base. */
function entryPath(entry: string): string {
  const parsed = parseScopeEntry(entry);
  return parsed.kind === 'glob' ? parsed.base : parsed.path;
}

function fileCount(count: number): string {
  return `${count} file${count === 1 ? '' : 's'}`;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}
