import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PlanError, StructuredOutputError } from '../../src/domain/errors.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { generateObject } from '../../src/model/generate-object.js';
import { planTask } from '../../src/plan/planner.js';
import { scriptedLlm } from '../support/scripted-llm.js';

const FILES = ['package.json', 'src/cli.ts', 'src/lib/parse.ts', 'src/lib/format.ts', 'test/cli.test.ts', 'README.md'];
const sub = (id: string, writeScope: string[], extra: Record<string, unknown> = {}) => ({
  id,
  title: `Work on ${id}`,
  instructions: `Instructions for ${id}`,
  writeScope,
  readScope: [],
  dependsOn: [],
  ...extra,
});
const answer = (...subtasks: unknown[]) => ({ content: JSON.stringify({ subtasks }) });

describe('planTask through the scripted endpoint', () => {
  it('accepts a clean plan, normalizing scopes and sending the schema with the request', async () => {
    const { llm, server } = await scriptedLlm([
      answer(sub('cli', ['src/cli.ts', 'test/cli.test.ts']), sub('lib', ['./src/lib'])),
    ]);
    const result = await planTask({ llm, task: 'Improve the CLI', files: FILES });
    expect(result.attempts).toBe(1);
    expect(result.plan.subtasks.map((s) => [s.id, s.writeScope])).toEqual([
      ['cli', ['src/cli.ts', 'test/cli.test.ts']],
      ['lib', ['src/lib/']],
    ]);
    const request = server.requests[0]!.body;
    expect(request.response_format?.type).toBe('json_schema');
    expect(JSON.stringify(request.response_format?.json_schema?.schema)).toContain('writeScope');
    expect(request.messages[0]!.content).toContain('At most 4 subtasks');
    expect(request.messages[1]!.content).toContain('src/lib/parse.ts');
  });

  it('accepts a one-subtask plan (single agent)', async () => {
    const { llm } = await scriptedLlm([answer(sub('all', ['src/', 'test/']))]);
    const result = await planTask({ llm, task: 'Small fix', files: FILES });
    expect(result.plan.subtasks).toHaveLength(1);
  });

  it('sends an overlapping plan back with the overlap named, and takes the fix', async () => {
    const { llm, server } = await scriptedLlm([
      answer(sub('cli', ['src/cli.ts', 'package.json']), sub('deps', ['package.json'])),
      answer(sub('cli', ['src/cli.ts']), sub('deps', ['package.json'])),
    ]);
    const result = await planTask({ llm, task: 'Add a dependency and use it', files: FILES });
    expect(result.attempts).toBe(2);
    expect(result.merged).toEqual([]);
    const feedback = server.requests[1]!.body.messages.at(-1)!.content!;
    expect(feedback).toContain('Subtasks "cli" and "deps" overlap: both may write package.json');
  });

  it('merges subtasks that still overlap after two replans, and says so', async () => {
    const overlapping = answer(
      sub('a', ['src/lib/']),
      sub('b', ['src/lib/parse.ts']),
      sub('c', ['README.md'], { dependsOn: ['b'] }),
    );
    const { llm, server } = await scriptedLlm([overlapping, overlapping, overlapping]);
    const result = await planTask({ llm, task: 'Refactor parsing', files: FILES });
    expect(server.requests).toHaveLength(3);
    expect(result.attempts).toBe(3);
    expect(result.merged).toEqual([['a', 'b']]);
    expect(result.plan.subtasks.map((s) => s.id)).toEqual(['a', 'c']);
    expect(result.plan.subtasks[0]!.writeScope).toEqual(['src/lib/', 'src/lib/parse.ts']);
    expect(result.plan.subtasks[1]!.dependsOn).toEqual(['a']);
    expect(result.notes[0]).toContain('Merged overlapping subtasks into one: a + b');
  });

  it('replans an invalid scope and refuses one that stays invalid, naming subtask and path', async () => {
    const bad = answer(sub('escape', ['../secrets.txt']));
    const { llm, server } = await scriptedLlm([bad, bad, bad]);
    const error = await planTask({ llm, task: 'x', files: FILES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PlanError);
    expect((error as Error).message).toContain('Subtask "escape" write scope "../secrets.txt" escapes the repository');
    expect(server.requests[1]!.body.messages.at(-1)!.content).toContain('"../secrets.txt"');
  });

  it('tells the planner the protected paths, and drops protected entries from a write scope before any agent', async () => {
    const files = [...FILES, '.github/workflows/ci.yml', '.github/actions/setup/action.yml', 'deploy/prod.sh'];
    const { llm, server } = await scriptedLlm([
      answer(sub('ci', ['src/cli.ts', '.github/actions/setup/', '.github/CODEOWNERS', 'deploy/prod.sh'])),
    ]);
    const result = await planTask({
      llm,
      task: 'Speed up CI',
      files,
      protectedPaths: protectedPaths(['deploy/']),
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.body.messages[0]!.content).toContain(
      '.github/workflows/**, .github/actions/**, .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, .github/dependabot.yml, .github/dependabot.yaml, .github/fanout.yml, deploy/',
    );
    expect(result.plan.subtasks[0]!.writeScope).toEqual(['src/cli.ts']);
    expect(result.notes).toEqual([
      expect.stringContaining(
        "Removed protected paths from `ci`'s write scope: `.github/actions/setup/`, `.github/CODEOWNERS`, `deploy/prod.sh`",
      ),
    ]);
  });

  it('sends back, then refuses, a subtask whose whole write scope is protected', async () => {
    const onlyCi = answer(sub('cli', ['src/cli.ts']), sub('ci', ['.github/workflows/', '.github/dependabot.yml']));
    const { llm, server } = await scriptedLlm([onlyCi, onlyCi, onlyCi]);
    const error = await planTask({ llm, task: 'x', files: FILES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PlanError);
    expect((error as Error).message).toContain(
      'Subtask "ci" may write only protected paths (.github/workflows/, .github/dependabot.yml): agents never change CI',
    );
    expect(server.requests[1]!.body.messages.at(-1)!.content).toContain('Subtask "ci" may write only protected paths');
  });

  it('folds subtasks beyond maxSubtasks when the planner insists', async () => {
    const many = answer(sub('a', ['src/cli.ts']), sub('b', ['src/lib/parse.ts']), sub('c', ['src/lib/format.ts']));
    const { llm } = await scriptedLlm([many, many]);
    const result = await planTask({ llm, task: 'x', files: FILES, maxSubtasks: 2, maxReplans: 1 });
    expect(result.plan.subtasks.map((s) => s.id)).toEqual(['a', 'b']);
    expect(result.plan.subtasks[1]!.writeScope).toEqual(['src/lib/parse.ts', 'src/lib/format.ts']);
  });

  it('recovers from malformed model output by sending the error back', async () => {
    const { llm, server } = await scriptedLlm([
      { content: 'Sure! Here is the plan: {subtasks: [' },
      { content: JSON.stringify({ subtasks: [{ id: 'Bad Id', title: 't', instructions: 'i', writeScope: ['a'] }] }) },
      { content: `\`\`\`json\n${JSON.stringify({ subtasks: [sub('ok', ['src/cli.ts'])] })}\n\`\`\`` },
    ]);
    const result = await planTask({ llm, task: 'x', files: FILES });
    expect(result.plan.subtasks.map((s) => s.id)).toEqual(['ok']);
    expect(server.requests[1]!.body.messages.at(-1)!.content).toContain('not valid JSON');
    expect(server.requests[2]!.body.messages.at(-1)!.content).toContain('subtasks.0.id');
  });

  it('fails clearly, without crashing, when the output stays malformed', async () => {
    const { llm } = await scriptedLlm([{ content: 'no' }, { content: '{"subtasks": 5}' }, { content: '[]' }]);
    const error = await planTask({ llm, task: 'x', files: FILES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect((error as Error).message).toContain('did not return valid "plan" JSON after 3 tries');
  });
});

describe('generateObject', () => {
  it('returns the parsed value and adds up usage across repairs', async () => {
    const { llm } = await scriptedLlm([
      { content: '{"n": "one"}', usage: { promptTokens: 10, completionTokens: 2 } },
      { content: '{"n": 1}', usage: { promptTokens: 20, completionTokens: 3 } },
    ]);
    const result = await generateObject({
      llm,
      schema: z.object({ n: z.number() }),
      name: 'n',
      messages: [{ role: 'user', content: 'n?' }],
    });
    expect(result).toEqual({ value: { n: 1 }, usage: { promptTokens: 30, completionTokens: 5 }, calls: 2 });
  });
});
