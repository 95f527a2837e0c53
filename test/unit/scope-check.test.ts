import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { publishScopeCheck } from '../../src/orchestrate/publish.js';
import type { PipelineDeps } from '../../src/orchestrate/pipeline-deps.js';
import type { CheckConclusion, CheckOutput } from '../../src/ports/forge.js';

/** Only what publishScopeCheck uses: a forge that keeps the check it was given. */
function checkRecorder(): { deps: PipelineDeps; completed: Array<{ conclusion: CheckConclusion } & CheckOutput> } {
  const completed: Array<{ conclusion: CheckConclusion } & CheckOutput> = [];
  const forge = {
    startCheck: async () => 'check-1',
    completeCheck: async (_id: string, result: { conclusion: CheckConclusion } & CheckOutput) => {
      completed.push(result);
    },
  };
  return { deps: { forge } as unknown as PipelineDeps, completed };
}

describe('the fanout/scope check', () => {
  it("fails a head that changes the repository's protected paths, even inside the write scope, and names them", async () => {
    const { deps, completed } = checkRecorder();
    const config = parseRepoConfig('protectedPaths:\n  - deploy/\n');

    const inScope = await publishScopeCheck(
      deps,
      'a'.repeat(40),
      ['src/a.ts', '.github/actions/setup/action.yml', 'deploy/prod.sh'],
      ['**'],
      config,
    );

    expect(inScope).toBe(false);
    expect(completed).toEqual([
      expect.objectContaining({
        conclusion: 'failure',
        title: '2 protected file(s) changed',
        summary: expect.stringContaining('- `.github/actions/setup/action.yml`\n- `deploy/prod.sh`'),
      }),
    ]);
  });

  it('passes a head whose files are all in scope and unprotected', async () => {
    const { deps, completed } = checkRecorder();

    expect(await publishScopeCheck(deps, 'b'.repeat(40), ['src/a.ts'], ['src/'], parseRepoConfig(null))).toBe(true);
    expect(completed[0]?.conclusion).toBe('success');
  });
});
