import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// Relative module specifiers in import and export statements and dynamic imports.
const SPECIFIER = /(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)\.js'/g;

/**
 * Compiles some of Fanout's modules, and every module they import, to JavaScript under `dir`
 * (same layout as under `root`), so that plain `node` runs them: what a process of another user
 * (uid 65534) can reach when this checkout, its `src` and its `tsx` sit under a private directory
 * (`mktemp -d` makes them 0700). Returns each entry's compiled path. Only relative imports are
 * followed: the modules a test runs this way import nothing but Node's own.
 */
export async function compiledCopy(entries: readonly string[], root: string, dir: string): Promise<string[]> {
  const pending = entries.map((entry) => resolve(root, entry));
  const done = new Set<string>();
  while (pending.length > 0) {
    const source = pending.pop()!;
    if (done.has(source)) continue;
    done.add(source);
    const text = await readFile(source, 'utf8');
    for (const match of text.matchAll(SPECIFIER)) pending.push(resolve(dirname(source), `${match[1]}.ts`));
    const output = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    }).outputText;
    const target = join(dir, relative(root, source)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, output, { mode: 0o644 });
  }
  return entries.map((entry) => join(dir, entry).replace(/\.ts$/, '.js'));
}
