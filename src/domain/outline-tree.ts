import { compareCodeUnits, type WorkspacePackage } from './workspace-packages.js';

export interface OutlineTreeOptions {
  /** Packages whose directories get a line (marked with the package) right after the top level. */
  packages?: readonly WorkspacePackage[];
  /** Directories described elsewhere in the same text (listed packages): no line of their own. */
  listedElsewhere?: ReadonlySet<string>;
}

interface DirectoryNode {
  /** '' for the root. */
  path: string;
  files: string[];
  children: DirectoryNode[];
  /** Files beneath, at any depth. */
  total: number;
  /** Directories beneath, at any depth. */
  directories: number;
}

const ROOT_SAMPLE = 20;
const DIRECTORY_SAMPLE = 4;
// Room kept for the closing count of what was left out.
const TRAILER_RESERVE = 60;

/**
 * A directory tree of `files` within `budgetChars`: every top-level directory first, then every
 * package, then deeper directories taken in turn from each subtree (so that one huge subtree
 * cannot use up the budget), printed in path order, with a count of the directories left out.
 */
export function outlineTree(files: readonly string[], budgetChars: number, options: OutlineTreeOptions = {}): string {
  const root = buildTree(files);
  const nodes = new Map<string, DirectoryNode>();
  collect(root, nodes);
  const directoryCount = nodes.size - 1;
  const header = `${files.length} files in ${directoryCount} directories (each line: a directory, the files beneath it, some of its own files)`;
  if (header.length > budgetChars)
    return fitText(`${files.length} files in ${directoryCount} directories`, budgetChars);

  const packageByPath = new Map((options.packages ?? []).map((pkg) => [pkg.path, pkg]));
  const shown = new Map<string, string>();
  const free = options.listedElsewhere ?? new Set<string>();
  let remaining = budgetChars - header.length - TRAILER_RESERVE;
  let full = false;
  // 'must' lines (the top level) fall back to no file names before giving up; 'fair' lines stop the tree.
  const take = (node: DirectoryNode, kind: 'must' | 'bare' | 'fair'): void => {
    if (full || shown.has(node.path) || free.has(node.path)) return;
    const label = packageLabel(packageByPath.get(node.path));
    const sample = node.path === '' ? ROOT_SAMPLE : DIRECTORY_SAMPLE;
    const candidates =
      kind === 'bare'
        ? [describe(node, label, 0)]
        : kind === 'must'
          ? [describe(node, label, sample), describe(node, label, 0)]
          : [describe(node, label, sample)];
    const line = candidates.find((text) => text.length + 1 <= remaining);
    if (line === undefined) {
      full = kind === 'fair';
      return;
    }
    shown.set(node.path, line);
    remaining -= line.length + 1;
  };

  if (root.files.length > 0) take(root, 'must');
  for (const child of root.children) take(child, 'must');
  // Package lines stay bare (no file names) so that many packages fit.
  for (const path of packageByPath.keys()) {
    const node = nodes.get(path);
    if (node) take(node, 'bare');
  }
  for (const node of fairOrder(root, (node) => free.has(node.path))) {
    take(node, 'fair');
    if (full) break;
  }

  const lines = [header, ...[...shown.keys()].sort(compareDirectories).map((path) => shown.get(path)!)];
  const hidden = directoryCount - [...shown.keys(), ...free].filter((path) => path !== '' && nodes.has(path)).length;
  if (hidden > 0) lines.push(`… ${hidden} more directories not shown`);
  return fitText(lines.join('\n'), budgetChars);
}

function buildTree(files: readonly string[]): DirectoryNode {
  const root: DirectoryNode = { path: '', files: [], children: [], total: 0, directories: 0 };
  const byPath = new Map<string, DirectoryNode>([['', root]]);
  const nodeFor = (path: string): DirectoryNode => {
    const existing = byPath.get(path);
    if (existing) return existing;
    const slash = path.lastIndexOf('/');
    const parent = nodeFor(slash === -1 ? '' : path.slice(0, slash));
    const node: DirectoryNode = { path, files: [], children: [], total: 0, directories: 0 };
    parent.children.push(node);
    byPath.set(path, node);
    return node;
  };
  for (const file of files) {
    const slash = file.lastIndexOf('/');
    nodeFor(slash === -1 ? '' : file.slice(0, slash)).files.push(file.slice(slash + 1));
  }
  summarize(root);
  return root;
}

function summarize(node: DirectoryNode): void {
  node.children.sort((a, b) => compareCodeUnits(a.path, b.path));
  node.files.sort(compareCodeUnits);
  node.total = node.files.length;
  node.directories = node.children.length;
  for (const child of node.children) {
    summarize(child);
    node.total += child.total;
    node.directories += child.directories;
  }
}

function collect(node: DirectoryNode, into: Map<string, DirectoryNode>): void {
  into.set(node.path, node);
  for (const child of node.children) collect(child, into);
}

/**
 * Directories in turns: a node, then its subtrees interleaved one line each round, so every
 * subtree advances one level before any goes two deeper.
 */
function fairOrder(node: DirectoryNode, skip: (node: DirectoryNode) => boolean): DirectoryNode[] {
  // A skipped directory takes no turn, but its subdirectories still do.
  const order: DirectoryNode[] = skip(node) ? [] : [node];
  const subtrees = node.children.map((child) => fairOrder(child, skip));
  const longest = Math.max(0, ...subtrees.map((subtree) => subtree.length));
  for (let index = 0; index < longest; index += 1) {
    for (const subtree of subtrees) if (index < subtree.length) order.push(subtree[index]!);
  }
  return order;
}

function describe(node: DirectoryNode, label: string, sample: number): string {
  const names = node.files.slice(0, sample);
  const more = node.files.length - names.length;
  const own = names.length > 0 ? `: ${names.join(', ')}${more > 0 ? `, +${more} more` : ''}` : '';
  if (node.path === '') return `./${own}`;
  const beneath = `${count(node.total, 'file')}${node.directories > 0 ? `, ${count(node.directories, 'subdir')}` : ''}`;
  return `${node.path}/ ${label}(${beneath})${own}`;
}

function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? '' : 's'}`;
}

function packageLabel(pkg: WorkspacePackage | undefined): string {
  if (!pkg) return '';
  return `[${pkg.ecosystem} package${pkg.name ? ` ${pkg.name}` : ''}] `;
}

/** Path order with each directory directly before its subdirectories. */
function compareDirectories(a: string, b: string): number {
  if (a === '') return -1;
  if (b === '') return 1;
  return compareCodeUnits(`${a}/`, `${b}/`);
}

/** The text cut to the budget at a line boundary (a last resort; callers budget their lines). */
export function fitText(text: string, budgetChars: number): string {
  if (text.length <= budgetChars) return text;
  const cut = text.lastIndexOf('\n', budgetChars);
  return cut > 0 ? text.slice(0, cut) : text.slice(0, Math.max(0, budgetChars));
}
