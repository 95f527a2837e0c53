import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** Lints `code` as if it lived at `path` in the repository, with the project's own lint config. */
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: process.cwd() }).lintText(code, { filePath: path });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

describe('the layering of ARCHITECTURE.md, enforced by the linter', () => {
  it('refuses imports that point upward, and SDKs outside the adapters', async () => {
    expect(
      await problems(
        'src/domain/probe.ts',
        "import { readJsonFile } from '../adapters/json-file.js';\nexport const x = readJsonFile;\n",
      ),
    ).toEqual([
      expect.stringContaining(
        'import-x/no-restricted-paths: Unexpected path "../adapters/json-file.js" imported in restricted zone. domain/',
      ),
    ]);
    expect(
      await problems(
        'src/agent/probe.ts',
        "import { executeRun } from '../orchestrate/execute-run.js';\nexport const x = executeRun;\n",
      ),
    ).toEqual([expect.stringContaining('capabilities take ports as arguments')]);
    expect(
      await problems('src/orchestrate/probe.ts', "import OpenAI from 'openai';\nexport const x = OpenAI;\n"),
    ).toEqual([expect.stringContaining('SDKs are imported by adapters only')]);
    expect(
      await problems(
        'src/plan/probe.ts',
        "import Anthropic from '@anthropic-ai/sdk';\nimport type { Message } from '@anthropic-ai/sdk/resources/messages';\nexport const x: [unknown, Message | null] = [Anthropic, null];\n",
      ),
    ).toEqual([
      expect.stringContaining('SDKs are imported by adapters only'),
      expect.stringContaining('SDKs are imported by adapters only'),
    ]);
  }, 30_000);

  it('lets imports point downward', async () => {
    expect(
      await problems(
        'src/orchestrate/probe.ts',
        "import { runSubtask } from '../agent/run-subtask.js';\nexport const x = runSubtask;\n",
      ),
    ).toEqual([]);
    expect(
      await problems(
        'src/adapters/probe.ts',
        "import OpenAI from 'openai';\nimport type { Llm } from '../ports/llm.js';\nexport const x: [unknown, Llm | null] = [OpenAI, null];\n",
      ),
    ).toEqual([]);
  }, 30_000);
});
