import { parse as parseYaml } from 'yaml';

// Pure readers for the few manifest fields the outline needs. Each takes a file's text and gives
// up quietly (empty list, undefined name) on anything it cannot read: an outline is a hint, and a
// malformed manifest must not stop a run.

/** The member patterns of an npm/yarn/pnpm-style `package.json` (`workspaces` as an array or `{ packages }`). */
export function npmWorkspacePatterns(text: string): string[] {
  const manifest = parseJsonObject(text);
  const workspaces = manifest?.['workspaces'];
  if (Array.isArray(workspaces)) return strings(workspaces);
  if (isRecord(workspaces) && Array.isArray(workspaces['packages'])) return strings(workspaces['packages']);
  return [];
}

/** The `packages` patterns of a `lerna.json`. */
export function lernaPatterns(text: string): string[] {
  const packages = parseJsonObject(text)?.['packages'];
  return Array.isArray(packages) ? strings(packages) : [];
}

/** The `packages:` list of a `pnpm-workspace.yaml`. */
export function pnpmWorkspacePatterns(text: string): string[] {
  try {
    const document: unknown = parseYaml(text);
    return isRecord(document) && Array.isArray(document['packages']) ? strings(document['packages']) : [];
  } catch {
    return [];
  }
}

/** `name` of a `package.json`. */
export function npmPackageName(text: string): string | undefined {
  const name = parseJsonObject(text)?.['name'];
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** `[workspace] members` and `exclude` of a `Cargo.toml`. */
export function cargoWorkspace(text: string): { members: string[]; exclude: string[] } {
  const section = tomlSection(text, 'workspace');
  if (section === undefined) return { members: [], exclude: [] };
  return { members: tomlStringArray(section, 'members'), exclude: tomlStringArray(section, 'exclude') };
}

/** `[package] name` of a `Cargo.toml`. */
export function cargoPackageName(text: string): string | undefined {
  const section = tomlSection(text, 'package');
  return section === undefined ? undefined : tomlString(section, 'name');
}

/** `[project] name` (PEP 621) or `[tool.poetry] name` of a `pyproject.toml`. */
export function pyprojectName(text: string): string | undefined {
  for (const header of ['project', 'tool.poetry']) {
    const section = tomlSection(text, header);
    const name = section === undefined ? undefined : tomlString(section, 'name');
    if (name) return name;
  }
  return undefined;
}

/** A literal `name="…"` passed to `setup()` in a `setup.py` (computed names are not guessed). */
export function setupPyName(text: string): string | undefined {
  return /\bname\s*=\s*["']([^"'\n]+)["']/.exec(text)?.[1];
}

/** The directories of a `go.work`'s `use` directives, single or in a block. */
export function goWorkUses(text: string): string[] {
  const code = text.replace(/\/\/[^\n]*/g, '');
  const uses: string[] = [];
  for (const block of code.matchAll(/^\s*use\s*\(([^)]*)\)/gm)) uses.push(...block[1]!.split(/\s+/));
  for (const single of code.matchAll(/^\s*use\s+([^\s(][^\s]*)/gm)) uses.push(single[1]!);
  return uses.map(unquote).filter((use) => use !== '');
}

/** The `module` path of a `go.mod`. */
export function goModulePath(text: string): string | undefined {
  const path = /^\s*module\s+(\S+)/m.exec(text.replace(/\/\/[^\n]*/g, ''))?.[1];
  return path === undefined ? undefined : unquote(path);
}

/** The body of one `[header]` table of a TOML file, comments removed; undefined when absent. */
function tomlSection(text: string, header: string): string | undefined {
  const lines = text.split(/\r?\n/).map(stripTomlComment);
  const start = lines.findIndex((line) => line.trim() === `[${header}]`);
  if (start === -1) return undefined;
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    // A new table starts with `[name]` or `[[name]]`; an array value's continuation never does.
    if (/^\s*\[\[?[A-Za-z0-9_."'-]+\]\]?\s*$/.test(line)) break;
    body.push(line);
  }
  return body.join('\n');
}

function tomlString(section: string, key: string): string | undefined {
  const match = new RegExp(`^\\s*${key}\\s*=\\s*(?:"([^"\\n]*)"|'([^'\\n]*)')`, 'm').exec(section);
  const value = match?.[1] ?? match?.[2];
  return value === undefined || value === '' ? undefined : value;
}

/** A (possibly multi-line) array of strings; other element types are skipped. */
function tomlStringArray(section: string, key: string): string[] {
  const match = new RegExp(`^\\s*${key}\\s*=\\s*\\[`, 'm').exec(section);
  if (!match) return [];
  const rest = section.slice(match.index + match[0].length);
  const values: string[] = [];
  const pattern = /"([^"\n]*)"|'([^'\n]*)'|(\])/g;
  for (const token of rest.matchAll(pattern)) {
    if (token[3] !== undefined) break;
    values.push(token[1] ?? token[2] ?? '');
  }
  return values;
}

function stripTomlComment(line: string): string {
  let quote: string | null = null;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index]!;
    if (quote) {
      if (char === quote) quote = null;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#') {
      return line.slice(0, index);
    }
  }
  return line;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(values: readonly unknown[]): string[] {
  return values.filter((value): value is string => typeof value === 'string' && value.trim() !== '');
}

function unquote(value: string): string {
  return value.replace(/^["'`](.*)["'`]$/, '$1');
}
