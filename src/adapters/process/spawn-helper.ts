import { spawn, type ChildProcess } from 'node:child_process';

/** One program to run to completion, its output collected. */
export interface SpawnRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  input?: string;
  timeoutMs: number;
  /** A niceness (0 to 19) for work that must not slow the rest (the kernel's scheduling priority). */
  niceness?: number;
}

/** How a program ended and what it printed. */
export interface SpawnResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (e.g. ENOENT). */
  error?: string;
}

// The helper's whole program: plain CommonJS run with `node -e`, so it needs no loader or build
// step, and stays small (about 40 MB), which is what makes its fork() cheap.
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const { setPriority } = require('node:os');
const running = new Set();
process.on('message', (m) => {
  let done = false, timedOut = false, error, timer, child;
  const out = [], err = [];
  const finish = (code, signal) => {
    if (done) return; done = true; clearTimeout(timer); running.delete(child);
    process.send({ id: m.id, exitCode: code, signal, timedOut, error,
      stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
  };
  // spawn throws at once for some arguments (a NUL byte, an environment too large): an answer, not a crash.
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  } catch (e) { error = String((e && e.message) || e); finish(null, null); return; }
  running.add(child);
  if (m.niceness && child.pid) { try { setPriority(child.pid, m.niceness); } catch {} }
  timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, m.timeoutMs);
  if (child.stdout) child.stdout.on('data', (d) => out.push(d));
  if (child.stderr) child.stderr.on('data', (d) => err.push(d));
  child.on('error', (e) => { error = e.message; finish(null, null); });
  child.on('close', (code, signal) => finish(code, signal));
  if (m.input !== undefined && child.stdin) { child.stdin.on('error', () => {}); child.stdin.end(m.input); }
});
// Signals are for the process that started it (Ctrl-C reaches a whole process group): the
// helper ends when that process does, and not before.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
// Nothing it started outlives Fanout: SIGTERM lets git remove its lock files as it stops.
process.on('disconnect', () => {
  for (const child of running) { try { child.kill('SIGTERM'); } catch {} }
  process.exit(0);
});
`;

interface Pending {
  resolve: (result: SpawnResult) => void;
  reject: (error: Error) => void;
}

/**
 * Runs short programs (git) from a small helper process instead of this one. Node forks the
 * whole process to start a program, and the fork's cost grows with this process's memory: a few
 * milliseconds of the main thread per git command here, against a fraction of one in the helper.
 * The helper is started on first use, restarted if it dies, and never keeps this process alive.
 */
export class SpawnHelper {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** The helper's process id while it runs (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs one program to completion in the helper. */
  run(request: SpawnRequest): Promise<SpawnResult> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise<SpawnResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.hold(child, true);
      child.send({ id, ...request }, (error) => {
        if (!error) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  private start(): ChildProcess {
    const child = spawn(process.execPath, ['-e', HELPER_SOURCE], {
      // No NODE_OPTIONS (a loader would make it big) and nothing secret: it only starts programs,
      // each with the environment its caller passes.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
      // Its own process group: a terminal's Ctrl-C goes to Fanout, which decides what stops.
      detached: true,
    });
    child.on('message', (message: SpawnResult & { id: number }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.hold(child, false);
      const { id: _id, ...result } = message;
      waiting.resolve(result);
    });
    const lost = (reason: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const waiting of this.pending.values()) waiting.reject(new Error(`the process helper ${reason}`));
      this.pending.clear();
    };
    child.on('exit', (code, signal) => lost(`exited (${signal ?? code})`));
    child.on('error', (error) => lost(`failed: ${error.message}`));
    this.child = child;
    this.hold(child, false);
    return child;
  }

  /** Keeps this process alive while requests are out, and not otherwise. */
  private hold(child: ChildProcess, busy: boolean): void {
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}
