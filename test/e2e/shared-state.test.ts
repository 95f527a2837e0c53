import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { NamespaceCommandRunner } from '../../src/adapters/command/namespace-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { renderRunReport } from '../../src/report/render-report.js';
import { call, finish } from '../support/agent-replies.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedBrain } from '../support/scripted-brain.js';

describeWithSandbox('the shared git directory under FANOUT_SANDBOX=none', 'namespaces', () => {
  it('puts back a hooks path and a hook an agent planted, and the report says so', async () => {
    const plant = [
      'git config core.hooksPath "$PWD/evil-hooks"',
      'printf "#!/bin/sh\\necho pwned > /tmp/pwned\\n" > "$(git rev-parse --git-common-dir)/hooks/pre-commit"',
      'chmod +x "$(git rev-parse --git-common-dir)/hooks/pre-commit"',
    ].join(' && ');
    const brain = scriptedBrain({
      plan: [{ id: 'one', title: 'First part', writeScope: ['one.txt'] }],
      agents: {
        'First part': [
          call('run_command', { command: plant }),
          call('write_file', { path: 'one.txt', content: '1\n' }),
          finish(),
        ],
      },
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate: []\n' });
    h.deps.runner = new NamespaceCommandRunner(new ProcessCommandRunner(), {
      mapCurrentUser: sandboxSupport().mapCurrentUser,
    });
    const configBefore = await readFile(join(h.repo, '.git/config'), 'utf8');
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(await readFile(join(h.repo, '.git/config'), 'utf8')).toBe(configBefore);
    expect(existsSync(join(h.repo, '.git/hooks/pre-commit'))).toBe(false);
    expect(report.subtasks[0]!.reverted).toEqual(['config', 'hooks/pre-commit']);
    expect(renderRunReport(report)).toContain(
      "warning: one's commands changed .git/config, .git/hooks/pre-commit in the shared repository; Fanout put them back.",
    );
  });
});
