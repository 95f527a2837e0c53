import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { reportingFullDisk } from '../../src/adapters/disk-full.js';
import { executeRun, prepareResume } from '../../src/orchestrate/execute-run.js';
import { startRun } from '../../src/orchestrate/start-run.js';
import type { CoordStore } from '../../src/ports/coord-store.js';
import { renderRunReport } from '../../src/report/render-report.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { RecordedRequest } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';
import { withTsxCache } from '../support/tsx-cache.js';

const CLI = join(process.cwd(), 'src/cli/main.ts');
const PLAN = [
  { id: 'fill', title: 'Fill the disk', writeScope: ['fill/', 'fill.txt'] },
  { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
];

// In a user and mount namespace of its own (no root needed), a 32 MiB tmpfs holds Fanout's state
// (records, worktrees, the local forge's). `fanout run`, then a copy of the records it left, then
// space freed and `fanout resume`; every output lands in $OUT, outside the tmpfs, for the test.
const SCRIPT = `
set -u
mount -t tmpfs -o size=32m tmpfs "$STATE" || exit 90
fanout() { node --import tsx "$CLI" "$@"; }
fanout run --repo "$REPO" "Fill the disk" > "$OUT/run.txt" 2>&1; echo $? > "$OUT/run.code"
RUN=$(sed -n 's/^Run \\([^ ]*\\) on .*/\\1/p' "$OUT/run.txt" | head -n 1)
df -k --output=avail "$STATE" | tail -n 1 > "$OUT/avail-kib"
mkdir "$OUT/stored" && cp -a "$STATE/runs" "$OUT/stored/"
# Free the space: the agent's file stays in its pooled worktree (ignored files are kept there).
find "$STATE" -name big.bin -delete
touch "$OUT/resuming"
fanout resume "$RUN" --json > "$OUT/resume.json" 2> "$OUT/resume.err"; echo $? > "$OUT/resume.code"
`;

describeWithSandbox('a full disk', 'namespaces', () => {
  it("Fanout's git on a full file system fails as disk-full, not as git's words", async () => {
    const root = await tempDir('fanout-disk-git-');
    // Git's own message ("No space left on device") is not what Fanout goes by; the file system is.
    const probe = `
      const { runGit } = await import(process.env.GIT_CLI);
      const commit = runGit(['commit', '--allow-empty', '-m', 'one more'], { cwd: process.env.REPO });
      console.log(JSON.stringify(await commit.then(() => ({ code: 'committed' }), (error) => ({ code: error.code, message: error.message }))));
    `;
    const script = `
      mount -t tmpfs -o size=2m tmpfs "$ROOT" || exit 90
      git init -q -b main "$REPO" && git -C "$REPO" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m first
      head -c 4000000 /dev/zero > "$ROOT/fill" 2>/dev/null
      node --import tsx --input-type=module -e "$PROBE"
    `;
    const child = spawn('unshare', ['--user', '--map-root-user', '--mount', '--', 'sh', '-c', script], {
      env: {
        ...process.env,
        ROOT: root,
        REPO: join(root, 'repo'),
        PROBE: probe,
        GIT_CLI: join(process.cwd(), 'src/adapters/workspace/git-cli.ts'),
        TMPDIR: withTsxCache(await tempDir('fanout-disk-tmp-')),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    expect(JSON.parse(printed)).toEqual({
      code: 'disk-full',
      message: expect.stringMatching(/^the disk is full \(ENOSPC while running git commit --allow-empty -m in \//),
    });
  });

  it('an agent filling the disk ends the run failed with the cause and a resume hint, nothing left running; after space is freed, resume completes', async () => {
    const root = await tempDir('fanout-disk-');
    const repo = join(root, 'repo');
    const state = join(root, 'state');
    const out = join(root, 'out');
    await mkdir(state);
    await mkdir(out);
    await createRepository(repo, {
      ...SAMPLE_FILES,
      '.gitignore': 'fill/\n',
      '.github/fanout.yml': 'validate:\n  - test -f README.md\nsetup: []\n',
    });
    // First the agent fills the disk while the other one waits for its model; once resumed, both just work.
    const filling = scriptedBrain({
      plan: PLAN,
      agents: {
        'Fill the disk': [
          call('run_command', { command: 'mkdir -p fill && head -c 200000000 /dev/zero > fill/big.bin' }),
          finish(),
        ],
        'Second part': [{ hang: true }],
      },
    });
    const working = scriptedBrain({
      plan: PLAN,
      agents: {
        'Fill the disk': [call('write_file', { path: 'fill.txt', content: 'small\n' }), finish()],
        'Second part': [call('write_file', { path: 'two.txt', content: 'two\n' }), finish()],
      },
    });
    const { server } = await scriptedLlm((request: RecordedRequest) =>
      existsSync(join(out, 'resuming')) ? working.reply(request) : filling.reply(request),
    );
    const child = spawn('unshare', ['--user', '--map-root-user', '--mount', '--', 'sh', '-c', SCRIPT], {
      env: {
        ...process.env,
        CLI,
        REPO: repo,
        STATE: state,
        OUT: out,
        OPENAI_BASE_URL: server.baseUrl,
        OPENAI_API_KEY: 'k',
        FANOUT_MODEL: 'scripted-model',
        FANOUT_STATE_DIR: state,
        FANOUT_SANDBOX: 'none',
        FANOUT_ALLOW_ROOT_NONE: '1',
        TMPDIR: withTsxCache(root),
      },
      stdio: 'ignore',
      // Its own process group: a test that fails mid-way stops the CLI it started too.
      detached: true,
    });
    onTestFinished(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
    const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const read = (name: string) => readFile(join(out, name), 'utf8');
    expect(exit).toBe(0);

    // The run ends failed, the cause and the way on printed, and exits 1.
    const printed = await read('run.txt');
    const runId = /^Run (\S+) on /m.exec(printed)![1]!;
    expect(await read('run.code')).toBe('1\n');
    expect(printed).toContain(`: FAILED (0 of 2 merged into main)`);
    expect(printed).toMatch(/Error: The disk is full \(ENOSPC while [^)]+\): free space, then `fanout resume \S+`\./);
    expect(printed).toContain(`fanout resume ${runId}\``);
    expect(printed).not.toContain('unexpected error');
    // The disk stayed full (the agent's file stays until freed): room for the last records was kept.
    expect(Number(await read('avail-kib'))).toBeLessThan(4096);

    // As stored: failed with the cause, no subtask left running, none "crashed" without one.
    const stored = new FileCoordStore(join(out, 'stored'));
    expect(await stored.getRun(runId)).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('The disk is full (ENOSPC while'),
    });
    const subtasks = await stored.listSubtasks(runId);
    await stored.close();
    expect(subtasks).toHaveLength(2);
    for (const subtask of subtasks) {
      expect(subtask).toMatchObject({
        state: 'failed',
        failureReason: 'disk-full',
        failureMessage: expect.stringContaining('the disk is full (ENOSPC while'),
      });
    }

    // Space freed: a plain resume runs both agents again and merges them.
    expect(await read('resume.code'), await read('resume.err')).toBe('0\n');
    const resumed = JSON.parse(await read('resume.json'));
    expect(resumed.state).toBe('succeeded');
    expect(resumed.subtasks.map((subtask: { merged?: string }) => Boolean(subtask.merged))).toEqual([true, true]);
  }, 120_000);
});

/** A store on a disk that fills when told: every write fails as the file system says it (ENOSPC). */
function fillingStore(store: CoordStore, disk: { full: boolean }): CoordStore {
  const refuse =
    <T extends unknown[], R>(write: (...args: T) => Promise<R>) =>
    async (...args: T): Promise<R> => {
      if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return write(...args);
    };
  const filling: CoordStore = {
    getRun: (runId) => store.getRun(runId),
    listRuns: () => store.listRuns(),
    getSubtask: (runId, subtaskId) => store.getSubtask(runId, subtaskId),
    listSubtasks: (runId) => store.listSubtasks(runId),
    readEvents: (runId, agentId, afterSeq) => store.readEvents(runId, agentId, afterSeq),
    getCommand: (id) => store.getCommand(id),
    listCommands: () => store.listCommands(),
    watch: (runId, listener) => store.watch(runId, listener),
    close: () => store.close(),
    ping: () => store.ping(),
    createRun: refuse((run) => store.createRun(run)),
    updateRun: refuse((runId, patch) => store.updateRun(runId, patch)),
    putSubtask: refuse((record) => store.putSubtask(record)),
    updateSubtask: refuse((runId, subtaskId, patch) => store.updateSubtask(runId, subtaskId, patch)),
    appendEvent: refuse((runId, agentId, event) => store.appendEvent(runId, agentId, event)),
    recordCommand: refuse((command) => store.recordCommand(command)),
    updateCommand: refuse((id, patch) => store.updateCommand(id, patch)),
  };
  // As the composition root wraps the file store: errno in, DiskFullError out.
  return reportingFullDisk(filling, 'the state directory');
}

describe('a full disk that refuses even the last records', () => {
  it('the run still reports failed with the cause and the resume hint, and a resume after space is freed completes', async () => {
    let phase: 'filling' | 'freed' = 'filling';
    const disk = { full: false };
    const plan = [
      { id: 'one', title: 'First part', writeScope: ['one.txt'] },
      { id: 'two', title: 'Second part', writeScope: ['two.txt'] },
    ];
    const filling = scriptedBrain({
      plan,
      // The disk fills as the first agent's answer arrives; the second waits for its model meanwhile.
      agents: {
        'First part': [call('write_file', { path: 'one.txt', content: 'one\n' })],
        'Second part': [{ hang: true }],
      },
    });
    const working = scriptedBrain({
      plan,
      agents: {
        'First part': [call('write_file', { path: 'one.txt', content: 'one\n' }), finish()],
        'Second part': [call('write_file', { path: 'two.txt', content: 'two\n' }), finish()],
      },
    });
    const h = await pipelineHarness(
      (request) => {
        if (phase === 'freed') return working.reply(request);
        const reply = filling.reply(request);
        if (reply.toolCalls?.[0]?.name === 'write_file') disk.full = true;
        return reply;
      },
      { config: 'validate:\n  - test -f README.md\n' },
    );
    const deps = { ...h.deps, store: fillingStore(h.deps.store, disk) };
    const started = await startRun(deps, { repoDir: h.repo, task: 'Write two files', config: h.config });

    const report = await executeRun(deps, started.id);
    expect(report.state, whyNot(report)).toBe('failed');
    expect(report.error).toBe(
      `The disk is full (ENOSPC while writing the state directory): free space, then \`fanout resume ${started.id}\`.`,
    );
    for (const subtask of report.subtasks)
      expect(subtask.failure).toMatchObject({
        reason: 'disk-full',
        message: expect.stringContaining('the disk is full'),
      });
    expect(renderRunReport(report)).toContain(`The disk filled up: free space, then: fanout resume ${started.id}`);

    // Space freed: the records the disk refused (the run still `running`) are taken up as they are.
    disk.full = false;
    phase = 'freed';
    const resumed = await executeRun(deps, (await prepareResume(deps, started.id, { retryFailed: false })).id);
    expect(resumed.state, whyNot(resumed)).toBe('succeeded');
    expect(resumed.subtasks.every((subtask) => subtask.merged)).toBe(true);
  });
});
