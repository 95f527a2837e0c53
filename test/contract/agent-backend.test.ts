import { dirname, join } from 'node:path';
import { CliAgentBackend } from '../../src/agent/cli/cli-backend.js';
import { createAgentBackends, createLlm } from '../../src/main.js';
import { anthropicSteps, openAiChatSteps, responsesSteps } from '../support/agent-steps.js';
import { fakeModelCliSpec } from '../support/fake-cli/fake-model-cli-spec.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { agentBackendContract, type AgentBackendSubject } from './agent-backend.contract.js';

const FAKE_MODEL_CLI = join(import.meta.dirname, '../support/fake-cli/fake-model-cli.mjs');

// Every agent backend, one entry each: its model server and how the composition root builds it.
const SUBJECTS: AgentBackendSubject[] = [
  {
    name: 'builtin',
    model: 'gpt-4.1-mini',
    server: openAiChatSteps,
    // Its model client is made per attempt, for the gateway and the attempt's credential.
    backend: async ({ runner, env }) =>
      createAgentBackends(createLlm(env, { apiKey: 'unused' }), runner, env)('builtin'),
  },
  {
    name: 'stand-in CLI',
    model: 'gpt-4.1-mini',
    server: openAiChatSteps,
    backend: async ({ runner }) =>
      new CliAgentBackend(
        fakeModelCliSpec(),
        { path: FAKE_MODEL_CLI, version: '1.0.0', installation: [dirname(FAKE_MODEL_CLI)] },
        runner,
      ),
  },
  {
    name: 'claude-code',
    model: 'claude-sonnet-4-5',
    server: anthropicSteps,
    backend: async ({ runner, env }) =>
      createAgentBackends(createLlm(env, { apiKey: 'unused' }), runner, env)('claude-code'),
  },
  {
    name: 'codex',
    model: 'gpt-5.5',
    server: responsesSteps,
    backend: async ({ runner, env }) => createAgentBackends(createLlm(env, { apiKey: 'unused' }), runner, env)('codex'),
    // Codex's stream reports usage once a turn ends, for the whole turn: per call, only the gateway knows.
    usagePerCall: false,
  },
];

describeWithSandbox('agent backends, one contract (real gateway, bwrap sandbox)', 'bwrap', () => {
  for (const subject of SUBJECTS) agentBackendContract(subject);
});
