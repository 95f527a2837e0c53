#!/usr/bin/env node
// A stand-in agent CLI for the CLI backend driver's tests: it plays a program of steps given as
// JSON in its last argument (or, on `--resume <id>`, the program's `resume` steps), printing one
// JSON event per line the way real agent CLIs stream theirs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const args = process.argv.slice(2);
const program = JSON.parse(args.at(-1));
const resumed = args.indexOf('--resume') >= 0;
const steps = resumed ? (program.resume ?? []) : program.steps;
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
let n = 0;

emit({ type: 'session', id: 'fake-session' });
for (const step of steps) {
  n += 1;
  if (step.say !== undefined) {
    emit({ type: 'model', usage: step.usage ?? { prompt: 10, completion: 5 } });
    continue;
  }
  if (step.write) {
    emit({ type: 'model', usage: step.usage ?? { prompt: 10, completion: 5 } });
    emit({ type: 'tool', id: `t${n}`, tool: 'write_file', args: { path: step.write, content: step.content ?? 'x\n' } });
    mkdirSync(dirname(step.write), { recursive: true });
    writeFileSync(step.write, step.content ?? 'x\n');
    emit({ type: 'result', id: `t${n}`, ok: true });
    continue;
  }
  if (step.run) {
    emit({ type: 'model', usage: step.usage ?? { prompt: 10, completion: 5 } });
    emit({ type: 'tool', id: `t${n}`, tool: 'run_command', args: { command: step.run } });
    let ok = true;
    try {
      execFileSync('bash', ['-c', step.run], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
    emit({ type: 'result', id: `t${n}`, ok });
    continue;
  }
  if (step.read) {
    emit({ type: 'model', usage: step.usage ?? { prompt: 10, completion: 5 } });
    emit({ type: 'tool', id: `t${n}`, tool: 'read_file', args: { path: step.read } });
    emit({ type: 'result', id: `t${n}`, ok: true });
    continue;
  }
  if (step.spawnSleeper) {
    // A grandchild in a session of its own, which only the process tree's end can stop.
    spawn('setsid', ['sleep', String(step.spawnSleeper)], { stdio: 'ignore', detached: true }).unref();
    continue;
  }
  if (step.silent) {
    // Says nothing more and never ends on its own.
    setInterval(() => undefined, 60_000);
    await new Promise(() => undefined);
  }
}
emit({
  type: 'done',
  ok: program.ok ?? true,
  summary: resumed ? (program.resumeSummary ?? 'resumed') : (program.summary ?? 'done'),
});
