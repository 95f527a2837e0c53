import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentModelAccess } from '../../ports/agent-backend.js';

/** Stands for the gateway's origin in a relayed command's arguments and environment. */
export const GATEWAY_ORIGIN_PLACEHOLDER = '{{FANOUT_GATEWAY}}';

/**
 * Runs inside the sandbox, before the agent CLI: it listens on the sandbox's own loopback, passes
 * each connection to the gateway's unix socket (bind-mounted read-only), puts its origin where the
 * placeholder stands in the CLI's arguments and environment, runs the CLI, and ends with it. A
 * sandbox without network reaches nothing else; the socket takes only the agent's own credential.
 */
const RELAY_SCRIPT = `import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
const [socketPath, separator, ...command] = process.argv.slice(2);
if (separator !== '--' || command.length === 0) process.exit(64);
const server = createServer((client) => {
  const gateway = connect(socketPath);
  client.pipe(gateway).pipe(client);
  client.on('error', () => gateway.destroy());
  gateway.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const origin = 'http://127.0.0.1:' + server.address().port;
  const fill = (text) => text.split(${JSON.stringify(GATEWAY_ORIGIN_PLACEHOLDER)}).join(origin);
  const env = Object.fromEntries(Object.entries(process.env).map(([name, value]) => [name, fill(value ?? '')]));
  const child = spawn(fill(command[0]), command.slice(1).map(fill), { stdio: 'inherit', env });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => { process.stderr.write('fanout relay: ' + error.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGKILL' ? 137 : 143)));
});
`;

/**
 * A PreToolUse hook command for CLIs whose hooks are commands (Codex): it posts the hook's input
 * to the gateway and prints the answer, which the CLI reads as the hook's decision. Hooks fail
 * open, and so does this: without an answer it allows, and the commit's scope check still holds.
 */
const TOOL_USE_HOOK_SCRIPT = `const [url, credential] = process.argv.slice(2);
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  try {
    const answer = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer ' + credential, 'content-type': 'application/json' }, body: input });
    process.stdout.write(await answer.text());
  } catch {
    process.stdout.write('{}');
  }
});
`;

/** Where an agent CLI reaches the gateway, and how its command is wrapped to get there. */
export interface GatewayRoute {
  /** The origin the CLI uses (a placeholder the relay fills in, or the gateway's own). */
  origin: string;
  /** Wraps the CLI's argv (the relay in front, when there is one). */
  wrap(argv: readonly string[]): string[];
  /** Directories the command must see (the socket's). */
  toolPaths: string[];
  /** A tool-use hook as a command line (for CLIs whose hooks are commands). */
  hookCommand: string[];
}

/**
 * Prepares an agent CLI's way to the gateway in its private HOME: through a relay to the unix
 * socket when the gateway has one (a sandbox without network reaches nothing else), or straight
 * to its loopback origin.
 */
export async function gatewayRoute(access: AgentModelAccess, home: string, node: string): Promise<GatewayRoute> {
  const directory = join(home, '.fanout');
  await mkdir(directory, { recursive: true });
  const hook = join(directory, 'tool-use-hook.mjs');
  await writeFile(hook, TOOL_USE_HOOK_SCRIPT);
  const relayed = access.socketPath !== undefined;
  const origin = relayed ? GATEWAY_ORIGIN_PLACEHOLDER : access.origin;
  const hookCommand = [node, hook, origin + access.paths.toolUseHook, access.credential];
  if (!access.socketPath) return { origin, wrap: (argv) => [...argv], toolPaths: [], hookCommand };
  const relay = join(directory, 'relay.mjs');
  await writeFile(relay, RELAY_SCRIPT);
  const socketPath = access.socketPath;
  return {
    origin,
    wrap: (argv) => [node, relay, socketPath, '--', ...argv],
    toolPaths: [socketPath.slice(0, socketPath.lastIndexOf('/')) || '/'],
    hookCommand,
  };
}
