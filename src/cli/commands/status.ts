import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { agentBackendOf } from '../../domain/run.js';
import { createStore } from '../../main.js';
import { renderRunReport } from '../../report/render-report.js';
import { buildRunReport, REPORT_SCHEMA_VERSION } from '../../report/run-report.js';
import { formatTable } from '../../report/format-table.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { UsageError } from '../errors.js';

/** `fanout status [run-id]`: the runs in the store, or one run's subtasks. */
export async function statusCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const store = createStore(env);
  try {
    const runId = positionals[0];
    if (runId) {
      const run = await store.getRun(runId);
      if (!run) throw new UsageError(`no run "${runId}".`);
      const report = buildRunReport(run, await store.listSubtasks(runId));
      output.out(values.json ? JSON.stringify(report, null, 2) : renderRunReport(report));
      return EXIT_OK;
    }
    const runs = await store.listRuns();
    if (values.json) {
      // The run report's field names (`runId`, not `id`), under the same schema version.
      const listed = runs.map((run) => ({
        runId: run.id,
        state: run.state,
        agent: agentBackendOf(run),
        task: run.task,
        repo: run.repo,
        baseBranch: run.baseBranch,
        createdAt: run.createdAt,
      }));
      output.out(JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, runs: listed }, null, 2));
      return EXIT_OK;
    }
    if (runs.length === 0) {
      output.out('No runs yet. Start one with: fanout run --repo DIR "task"');
      return EXIT_OK;
    }
    output.out(
      formatTable(
        ['run', 'state', 'agents', 'started', 'repository', 'task'],
        runs.map((run) => [
          run.id,
          run.state,
          agentBackendOf(run),
          run.createdAt.slice(0, 19).replace('T', ' '),
          run.repo,
          run.task,
        ]),
      ),
    );
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
