import { parseArgs } from 'node:util';
import { REPORT_SCHEMA_VERSION } from '../../report/run-report.js';
import type { Env } from '../../config/env.js';
import { createLlm } from '../../main.js';
import { formatProbeReport, probeModel } from '../../model/probe.js';
import { AGENT_BACKEND_NAMES, isAgentBackendName } from '../../domain/agent-backend.js';
import { UsageError } from '../errors.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { checkAgent, type AgentDoctorReport } from './doctor-agent.js';

/**
 * `fanout doctor`: checks that the configured model can drive agents, check by check; with
 * `--agent NAME`, that backend: its binary and version, its sandbox, and one round trip.
 */
export async function doctorCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, model: { type: 'string' }, agent: { type: 'string' } },
  });
  if (values.agent !== undefined) {
    if (!isAgentBackendName(values.agent))
      throw new UsageError(`--agent ${values.agent}: not an agent backend (${AGENT_BACKEND_NAMES.join(', ')}).`);
    const checked = await checkAgent(values.agent, env, values.model ? { model: values.model } : {});
    output.out(
      values.json
        ? JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...checked }, null, 2)
        : formatAgentReport(checked),
    );
    return checked.ok ? EXIT_OK : EXIT_FAILED;
  }
  const llm = createLlm(env, values.model ? { model: values.model } : {});
  const report = await probeModel(llm);
  output.out(
    values.json
      ? JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...report }, null, 2)
      : formatProbeReport(report),
  );
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

/** The agent's checks, one line each, under a verdict (as the model's probe prints them). */
function formatAgentReport(report: AgentDoctorReport): string {
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;
  const lines = report.checks.map((check) => `  ${mark[check.status]} ${check.name.padEnd(18)} ${check.detail}`);
  const verdict = report.ok
    ? `The ${report.backend} agent is ready${report.model ? ` (model ${report.model})` : ''}.`
    : `The ${report.backend} agent is NOT ready.`;
  return [verdict, ...lines].join('\n');
}
