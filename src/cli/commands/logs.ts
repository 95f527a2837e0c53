import { parseArgs } from 'node:util';
import type { Env } from '../../config/env.js';
import { isAgentBackendName, type AgentBackendName } from '../../domain/agent-backend.js';
import type { AgentEvent } from '../../domain/run.js';
import { createStore } from '../../main.js';
import { renderEvents } from '../../report/render-events.js';
import { REPORT_SCHEMA_VERSION } from '../../report/run-report.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';
import { UsageError } from '../errors.js';

/** `fanout logs <run-id> <subtask> [--attempt N] [--json]`: what an agent did, event by event. */
export async function logsCommand(argv: string[], env: Env, output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { attempt: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const [runId, subtaskId] = positionals;
  if (!runId || !subtaskId) throw new UsageError('usage: fanout logs <run-id> <subtask-id> [--attempt N] [--json]');
  const store = createStore(env);
  try {
    const record = await store.getSubtask(runId, subtaskId);
    if (!record)
      throw new UsageError(`no subtask "${subtaskId}" in run "${runId}" (\`fanout status ${runId}\` lists them).`);
    const made = Math.max(record.attempt, 1);
    if (
      values.attempt !== undefined &&
      !(/^\d+$/.test(values.attempt) && Number(values.attempt) >= 1 && Number(values.attempt) <= made)
    ) {
      throw new UsageError(
        `--attempt ${values.attempt}: ${subtaskId} has ${made === 1 ? 'attempt 1 only' : `attempts 1 to ${made}`}${record.fixes?.length ? ` (and ${record.fixes.length} fix attempt(s), shown without --attempt)` : ''}.`,
      );
    }
    const attempts = values.attempt ? [Number(values.attempt)] : Array.from({ length: made }, (_, n) => n + 1);
    // Fix attempts on the pull request come after the agent's own attempts, in their own logs.
    const logs = [
      ...attempts.map((attempt) => ({
        key: { attempt },
        agentId: `${subtaskId}-${attempt}`,
        title: `attempt ${attempt}`,
      })),
      ...(values.attempt
        ? []
        : (record.fixes ?? []).map((fix) => ({
            key: { fix: fix.number },
            agentId: `${subtaskId}-fix${fix.number}`,
            title: `fix attempt ${fix.number}`,
          }))),
    ];
    for (const log of logs) {
      const events = await store.readEvents(runId, log.agentId);
      // The backend the attempt's start names; a run keeps one backend, so the record's stands in.
      const agent = startedBackend(events) ?? record.agent;
      if (values.json) {
        output.out(
          JSON.stringify(
            { schemaVersion: REPORT_SCHEMA_VERSION, ...log.key, ...(agent ? { agent } : {}), events },
            null,
            2,
          ),
        );
        continue;
      }
      output.out(`${subtaskId}, ${log.title} (${agent ? `${agent}, ` : ''}${events.length} events)`);
      output.out(events.length > 0 ? renderEvents(events) : '  (no events)');
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

/** The backend an attempt's `agent-started` event names, if it names one. */
function startedBackend(events: readonly AgentEvent[]): AgentBackendName | undefined {
  const backend = events.find((event) => event.type === 'agent-started')?.data.backend;
  return typeof backend === 'string' && isAgentBackendName(backend) ? backend : undefined;
}
