import { afterEach, vi } from 'vitest';
import { OpenAiLlm, type OpenAiLlmOptions } from '../../src/adapters/llm/openai-llm.js';
import { startScriptedServer, type Script, type ScriptedServer } from './scripted-openai-server.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Starts a scripted endpoint (closed after the test) and a real OpenAiLlm pointed at it. */
export async function scriptedLlm(
  script: Script,
  options: Partial<OpenAiLlmOptions> & { models?: string[] | null } = {},
): Promise<{ llm: OpenAiLlm; server: ScriptedServer }> {
  const { models, ...llmOptions } = options;
  const server = await startScriptedServer({ script, ...(models !== undefined ? { models } : {}) });
  servers.push(server);
  const llm = new OpenAiLlm({
    baseUrl: server.baseUrl,
    apiKey: 'test-key',
    model: 'scripted-model',
    timeoutMs: 5_000,
    maxAnswerBytes: 1_000_000,
    idleTimeoutMs: 2_000,
    maxRetries: 2,
    stream: true,
    ...llmOptions,
  });
  return { llm, server };
}

/** Points the CLI's environment at a scripted endpoint and a state directory (undone by vi.unstubAllEnvs). */
export function stubModelEnv(baseUrl: string, stateDir: string): void {
  vi.stubEnv('OPENAI_BASE_URL', baseUrl);
  vi.stubEnv('OPENAI_API_KEY', 'k');
  vi.stubEnv('FANOUT_MODEL', 'scripted-model');
  vi.stubEnv('FANOUT_STATE_DIR', stateDir);
  // Commands still run in their own namespaces; the bubblewrap sandbox has its own tests.
  vi.stubEnv('FANOUT_SANDBOX', 'none');
  // The test machines run as root: none is accepted there, and the reports say so.
  vi.stubEnv('FANOUT_ALLOW_ROOT_NONE', '1');
}

/** A base URL on which nothing listens. */
export function deadEndpoint(): string {
  // Port 9 (discard) is closed on these machines; connections are refused at once.
  return 'http://127.0.0.1:9/v1';
}
