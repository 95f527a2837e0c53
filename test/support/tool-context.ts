import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import type { ToolContext } from '../../src/agent/tools/tool-context.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { createWriteMatcher } from '../../src/domain/scope.js';
import { tempDir } from './temp-dir.js';

/** A worktree-like directory with files, and a tool context confined to it (`configured`: the repository's `protectedPaths:`). */
export async function toolSandbox(
  files: Record<string, string>,
  writeScope: string[],
  configured: string[] = [],
): Promise<ToolContext> {
  const root = await realpath(await tempDir('fanout-tools-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return {
    root,
    writeScope,
    canWrite: createWriteMatcher(writeScope, protectedPaths(configured)),
    protectedPaths: protectedPaths(configured),
    runner: new ProcessCommandRunner(),
    commandEnv: {},
    commandTimeoutMs: 5_000,
    outputLimit: 4_000,
  };
}
