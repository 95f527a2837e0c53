import { describe, expect, it } from 'vitest';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { LimitedCommandRunner } from '../../src/adapters/command/resource-limits.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { loadEnv } from '../../src/config/env.js';
import { createCommandRunner } from '../../src/main.js';
import { renderRunReport } from '../../src/report/render-report.js';
import { renderStatusComment } from '../../src/report/render-status-comment.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { environmentHarness, runOneSubtask, WRITE_NOTES } from '../support/environment-harness.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { FORK_BOMB } from '../support/fork-bomb.js';
import { itWithCgroups } from '../support/require-cgroups.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { tempDir } from '../support/temp-dir.js';

// Small limits, so each hostile command is stopped in a moment.
const LIMITS = 'limits: { processes: 64, memory: 200M, fileSize: 8M, disk: 32M }\n';

/** A hostile agent that runs the same command until it is stopped (the model is told the first time). */
const twice = (command: string): ScriptedReply[] => [
  call('run_command', { command }),
  call('run_command', { command }),
  finish('Done.'),
];

describeWithSandbox('resource limits: hostile agent commands in a real run', 'bwrap', () => {
  itWithCgroups(
    'a fork bomb, a memory hog and a disk filler each fail their own subtask with the limit named, while the good subtask merges',
    async () => {
      const brain = scriptedBrain({
        plan: [
          { id: 'bomb', title: 'Fork bomb', writeScope: ['bomb/'] },
          { id: 'hog', title: 'Memory hog', writeScope: ['hog/'] },
          { id: 'filler', title: 'Disk filler', writeScope: ['filler/'] },
          { id: 'good', title: 'Say goodbye', writeScope: ['src/farewell.js'] },
        ],
        agents: {
          'Fork bomb': twice(FORK_BOMB),
          // `tail` keeps the one line (400 MiB of zeros, no newline) in memory: bounded, should the limit fail.
          'Memory hog': twice('head -c 400M /dev/zero | tail'),
          // At most 400 MiB if nothing stopped it; the quota is 32 MiB.
          'Disk filler': twice('for i in $(seq 1 100); do head -c 4M /dev/zero > fill-$i.bin; done'),
          'Say goodbye': [
            call('write_file', { path: 'src/farewell.js', content: 'export const farewell = () => "Bye!";\n' }),
            finish('Wrote farewell.'),
          ],
        },
      });
      const h = await pipelineHarness(brain.reply, { config: LIMITS });
      // The runner `fanout run` composes: bubblewrap over the limits.
      const choice = createCommandRunner(loadEnv({ FANOUT_SANDBOX: 'bwrap', FANOUT_STATE_DIR: h.stateDir }));
      h.deps.runner = choice.runner;
      h.deps.sandbox = choice.sandbox;
      h.deps.commandLimits = choice.commandLimits;

      const report = await h.run();

      expect(report.state, whyNot(report)).toBe('partial');
      const outcome = (id: string) => report.subtasks.find((subtask) => subtask.id === id)!;
      expect(outcome('good').merged, whyNot(report)).toBeTruthy();
      expect(outcome('bomb').failure?.reason, whyNot(report)).toBe('resource-limit: processes');
      expect(outcome('hog').failure?.reason, whyNot(report)).toBe('resource-limit: memory');
      expect(outcome('filler').failure?.reason, whyNot(report)).toBe('resource-limit: disk');
      // Told once, stopped the second time; never retried.
      for (const id of ['bomb', 'hog', 'filler']) expect(outcome(id).attempts).toBe(1);
      expect(outcome('bomb').failure?.message).toContain('the process limit (64 processes and threads)');
      expect(outcome('filler').failure?.message).toContain('the disk quota (32 MiB');
      // The model's first stop came back as a tool error naming the limit.
      const seen = JSON.stringify(h.server.requests.map((request) => request.body.messages));
      expect(seen).toContain('command stopped at the memory limit (200 MiB)');
      // Reports name the reason and what enforced it.
      expect(report.commandLimits).toMatch(/^cgroup v[12] \(pids, memory\)/);
      const text = renderRunReport(report);
      expect(text).toContain('failed: resource-limit: processes');
      expect(text).toMatch(/Limits: cgroup v[12] \(pids, memory\)/);
      expect(text).toContain('raise `limits:` in .github/fanout.yml');
      const run = (await h.deps.store.getRun(report.runId))!;
      const comment = renderStatusComment(run, await h.deps.store.listSubtasks(report.runId));
      expect(comment).toContain('`filler` resource-limit: disk');
    },
    90_000,
  );
});

describeWithSandbox('resource limits: no way out of the cgroup', 'namespaces', () => {
  itWithCgroups(
    'a command that first moves itself to every other cgroup it can name is held to its process limit all the same, in both modes',
    async () => {
      const state = await tempDir('fanout-state-');
      const escape =
        'for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs; do echo $$ > "$f"; done 2>/dev/null';
      // 100 processes against a limit of 64: bounded even if the escape worked (no fork bomb here).
      const crowd = 'for i in $(seq 100); do sleep 2 & done; wait';
      const modes = sandboxSupport().bwrap ? (['none', 'bwrap'] as const) : (['none'] as const);
      for (const mode of modes) {
        const { runner } = createCommandRunner(
          loadEnv({ FANOUT_SANDBOX: mode, FANOUT_STATE_DIR: state, FANOUT_ALLOW_ROOT_NONE: '1' }),
        );
        const result = await runner.run({
          argv: ['bash', '-c', `${escape}; ${crowd}`],
          cwd: await tempDir(),
          timeoutMs: 30_000,
          outputLimit: 2_000,
          limits: { processes: 64, memory: 200 * 1024 * 1024, fileSize: 8 * 1024 * 1024, disk: 32 * 1024 * 1024 },
        });
        expect(result.limitExceeded, mode).toBe('processes');
      }
    },
  );
});

describe('resource limits: setup', () => {
  it('a setup command past a limit fails the subtask with that reason, without a retry or a model call', async () => {
    const h = await environmentHarness({
      config: `setup:\n  - head -c 20M /dev/zero > big.bin\n${LIMITS}`,
      runner: new LimitedCommandRunner(new ProcessCommandRunner()),
    });
    const { outcome, server } = await runOneSubtask(h, WRITE_NOTES, (worktree) => h.preparer().prepare(worktree));
    expect(outcome).toMatchObject({ kind: 'failed', reason: 'resource-limit: file-size', attempts: 1 });
    expect(outcome.kind === 'failed' && outcome.message).toContain(
      'was stopped at the file size limit (8 MiB per file)',
    );
    expect(server.requests).toHaveLength(0);
  });
});
