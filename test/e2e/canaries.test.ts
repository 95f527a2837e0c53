import { execFile, spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';
import { withTsxCache } from '../support/tsx-cache.js';

const exec = promisify(execFile);
const CLI = join(process.cwd(), 'src/cli/main.ts');

/** Secrets planted where a hostile agent would look: Fanout's environment, the user's home, the checkout. */
function plantedCanaries() {
  const tag = Math.random().toString(36).slice(2, 10);
  return {
    env: {
      OPENAI_API_KEY: `sk-envcanary${tag}openaikey000000`,
      WEBHOOK_SECRET: `envcanary-${tag}-webhook`,
      GITHUB_TOKEN: `ghs_envcanary${tag}githubtoken0000`,
      PRIVATE_KEY: `envcanary-${tag}-private-key`,
      DEPLOY_NOTE: `envcanary-${tag}-plain-variable`,
    },
    home: { gitconfig: `homecanary-${tag}-gitconfig`, ssh: `homecanary-${tag}-ssh`, gh: `homecanary-${tag}-gh` },
    checkout: { dotenv: `checkoutcanary-${tag}-dotenv`, remote: `checkoutcanary${tag}remote` },
    // A key handed to Fanout as an open descriptor (`PRIVATE_KEY_PATH=<(vault read ...)`).
    descriptor: `fdcanary-${tag}-private-key`,
  };
}

/** Everything a hostile agent tries: environment, other processes, git config, walking up, symlinks out. */
function probingAgent(paths: { home: string; repo: string }): ScriptedReply[] {
  const probe = [
    'env',
    "cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'",
    'cat /proc/$PPID/environ 2>/dev/null',
    'ps eww -e 2>&1',
    'ls -l /proc/self/fd; for fd in /proc/self/fd/* /proc/$PPID/fd/*; do cat "$fd"; done 2>/dev/null </dev/null',
    'git config --list --show-origin 2>&1',
    `cat ${paths.home}/.gitconfig ${paths.home}/.ssh/id_rsa ${paths.home}/.config/gh/hosts.yml 2>&1`,
    `cat ${paths.repo}/.env ${paths.repo}/.git/config 2>&1`,
    'd=$PWD; while [ "$d" != / ]; do ls -a "$d"; cat "$d"/.env "$d"/.git/config 2>/dev/null; d=$(dirname "$d"); done',
    `ln -s ${paths.home}/.ssh src/ssh-link; ln -s ${paths.repo}/.env src/env-link`,
  ].join('; ');
  return [
    // On its own (the big probe's output is cut to its head and tail on a busy machine).
    call('run_command', { command: `cat ${paths.repo}/.env 2>&1; ls -la ${paths.home} ${paths.repo} 2>&1` }),
    call('run_command', { command: probe }),
    call('read_file', { path: 'src/ssh-link/id_rsa' }),
    call('read_file', { path: 'src/env-link' }),
    call('search', { query: 'canary' }),
    // Links out of the repository are never committed; this agent cleans up after itself.
    call('run_command', { command: 'rm src/ssh-link src/env-link' }),
    call('write_file', { path: 'src/farewell.js', content: 'export const farewell = (name) => `Bye, ${name}!`;\n' }),
    finish(),
  ];
}

async function allText(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return parts.join('\n');
}

/** A real `fanout run` (a process of its own, with the canaries in its environment) against a scripted model. */
async function runWithCanaries(sandbox: 'bwrap' | 'none') {
  const canaries = plantedCanaries();
  const root = await tempDir('fanout-canary-');
  const home = join(root, 'home');
  const repo = join(root, 'checkout');
  const stateDir = join(root, 'state');
  await mkdir(join(home, '.ssh'), { recursive: true });
  await mkdir(join(home, '.config/gh'), { recursive: true });
  await writeFile(join(home, '.gitconfig'), `[user]\n\tname = ${canaries.home.gitconfig}\n`);
  await writeFile(join(home, '.ssh/id_rsa'), canaries.home.ssh);
  await writeFile(join(home, '.config/gh/hosts.yml'), `github.com:\n  oauth_token: ${canaries.home.gh}\n`);
  await createRepository(repo, { ...SAMPLE_FILES, '.github/fanout.yml': 'validate:\n  - node --test\n' });
  await writeFile(join(repo, '.env'), `TOKEN=${canaries.checkout.dotenv}\n`);
  await exec(
    'git',
    ['remote', 'add', 'origin', `https://x-access-token:${canaries.checkout.remote}@github.com/o/r.git`],
    { cwd: repo },
  );

  const brain = scriptedBrain({
    plan: [{ id: 'probe', title: 'Probe everything', writeScope: ['src/'] }],
    agents: { 'Probe everything': probingAgent({ home, repo }) },
  });
  const { server } = await scriptedLlm(brain.reply);
  await writeFile(join(root, 'key.pem'), canaries.descriptor);
  const key = await open(join(root, 'key.pem'), 'r');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'run', '--repo', repo, '--json', 'Change the greeting'],
    {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH,
        ...canaries.env,
        HOME: home,
        OPENAI_BASE_URL: server.baseUrl,
        FANOUT_MODEL: 'scripted-model',
        FANOUT_STATE_DIR: stateDir,
        FANOUT_SANDBOX: sandbox,
        TMPDIR: withTsxCache(root),
      },
      stdio: ['ignore', 'pipe', 'pipe', key.fd],
    },
  );
  await key.close();
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seenByModel = JSON.stringify(server.requests.map((request) => request.body.messages));
  const { stdout: merged } = await exec('git', ['log', '-p', 'main'], { cwd: repo });
  return { canaries, code, stdout, stderr, seenByModel, stored: await allText(stateDir), merged };
}

function reachable(texts: string[], values: string[]): string[] {
  return values.filter((value) => texts.some((text) => text.includes(value)));
}

describeWithSandbox('canaries: the bubblewrap sandbox', 'bwrap', () => {
  it("no agent command or tool reaches a secret in Fanout's environment, the user's home or the checkout", async () => {
    const result = await runWithCanaries('bwrap');
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    // The probes did run: the model saw their output, and the work merged.
    expect(result.seenByModel).toContain('--- stdout ---');
    expect(result.merged).toContain('Bye, ${name}!');
    const all = [
      ...Object.values(result.canaries.env),
      ...Object.values(result.canaries.home),
      ...Object.values(result.canaries.checkout),
      result.canaries.descriptor,
    ];
    expect(reachable([result.seenByModel, result.stored, result.merged, result.stdout, result.stderr], all)).toEqual(
      [],
    );
  }, 60_000);
});

describeWithSandbox('canaries: FANOUT_SANDBOX=none', 'namespaces', () => {
  it("no agent command or tool reaches a secret in Fanout's environment, the user's home or the checkout, and every report says the sandbox was off", async () => {
    const result = await runWithCanaries('none');
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.seenByModel).toContain('--- stdout ---');
    expect(result.merged).toContain('Bye, ${name}!');
    // No bubblewrap, but each command's own mount namespace covers the home and the checkout.
    const all = [
      ...Object.values(result.canaries.env),
      ...Object.values(result.canaries.home),
      ...Object.values(result.canaries.checkout),
      result.canaries.descriptor,
    ];
    expect(reachable([result.seenByModel, result.stored, result.merged, result.stdout, result.stderr], all)).toEqual(
      [],
    );
    expect(JSON.parse(result.stdout).sandbox).toBe('none');
  }, 60_000);
});
