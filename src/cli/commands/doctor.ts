import { parseArgs } from 'node:util';
import { REPORT_SCHEMA_VERSION } from '../../report/run-report.js';
import type { Env } from '../../config/env.js';
import { createLlm } from '../../main.js';
import { formatProbeReport, probeModel } from '../../model/probe.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';

/** `fanout doctor`: checks that the configured model can drive agents, check by check. */
export async function doctorCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, model: { type: 'string' } },
  });
  const llm = createLlm(env, values.model ? { model: values.model } : {});
  const report = await probeModel(llm);
  output.out(
    values.json
      ? JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...report }, null, 2)
      : formatProbeReport(report),
  );
  return report.ok ? EXIT_OK : EXIT_FAILED;
}
