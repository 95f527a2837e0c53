import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';
import { systemProgram } from '../system-programs.js';
import { OutputCollector } from './output-collector.js';
import { safeEnvironment } from './safe-env.js';

const KILL_GRACE_MS = 1_500;
const DRAIN_GRACE_MS = 250;
// Descriptors Fanout inherited without close-on-exec (`PRIVATE_KEY_PATH=<(vault read ...)` is fd 63)
// would reach every command: close all but stdin, stdout and stderr, then run the command itself.
// (Silencing the whole loop would make bash park stderr on a spare descriptor the loop then closes.)
const CLOSE_INHERITED_FDS =
  'for fd in /proc/self/fd/*; do fd=${fd##*/}; case $fd in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac; done';

/**
 * Shell lines the same shell runs before it execs the command, with arguments they `shift` off
 * (the resource limits: joining the command's cgroup, setting rlimits), at no extra process's cost.
 */
export interface Prelude {
  script: string;
  args: readonly string[];
}

/**
 * Runs commands as plain child processes, each the leader of its own process group, so a
 * timeout kills the command and everything it started. The environment is an allowlist with
 * secrets removed; stdin is closed.
 */
export class ProcessCommandRunner implements CommandRunner {
  /** A command may leave processes behind (a double fork escapes the group kill). */
  readonly confinesProcesses = false;
  async privateHome(): Promise<PrivateHome> {
    const path = await mkdtemp(join(tmpdir(), 'fanout-home-'));
    return { path, dispose: () => rm(path, { recursive: true, force: true }) };
  }

  run(request: CommandRequest): Promise<CommandResult> {
    return this.runWith(request);
  }

  /** Runs a command with a prelude before it (see `Prelude`). */
  runWith(request: CommandRequest, prelude?: Prelude): Promise<CommandResult> {
    const started = performance.now();
    const [program, ...args] = request.argv;
    if (!program) return Promise.reject(new Error('empty argv'));
    return new Promise((resolve) => {
      const stdout = new OutputCollector(request.outputLimit);
      const stderr = new OutputCollector(request.outputLimit);
      let timedOut = false;
      let settled = false;
      const script = `${CLOSE_INHERITED_FDS}\n${prelude ? `${prelude.script}\n` : ''}exec "$@"`;
      const preludeArgs = prelude?.args ?? [];
      const child = spawn(systemProgram('bash'), ['-c', script, 'fanout-command', ...preludeArgs, program, ...args], {
        cwd: request.cwd,
        env: safeEnvironment(request.env),
        detached: true,
        // Not even an empty pipe: node's pipes are sockets, and bash reads ~/.bashrc when stdin is one.
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const killGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // The group is already gone.
        }
      };
      const stop = () => {
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, request.timeoutMs);
      const onAbort = () => stop();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const decoder = request.onStdout ? new StringDecoder('utf8') : undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        if (decoder) request.onStdout!(decoder.write(chunk));
      });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const finish = (exitCode: number | null, signal: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        // Background processes the command left behind die with it.
        killGroup('SIGKILL');
        resolve({
          exitCode,
          signal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
          durationMs: Math.round(performance.now() - started),
        });
      };
      child.on('error', (error) => {
        stderr.push(Buffer.from(`failed to start ${program}: ${error.message}\n`));
        finish(127, null);
      });
      // The output still in the pipes when the command exits is read to its end; but a grandchild
      // holding the pipes open (a daemon it started) must not keep us waiting: at most a moment.
      const drained = Promise.all(
        [child.stdout, child.stderr].map(
          (stream) => new Promise<void>((done) => (stream.readableEnded ? done() : stream.once('close', done))),
        ),
      );
      child.on('exit', (code, signal) => {
        const grace = setTimeout(() => finish(code, signal), DRAIN_GRACE_MS);
        void drained.then(() => {
          clearTimeout(grace);
          finish(code, signal);
        });
      });
    });
  }
}
