#!/usr/bin/env node
// A stand-in agent CLI driven by a model, the way real agent CLIs are: it asks an OpenAI chat
// endpoint (Fanout's gateway, with the credential it was given) for the next step, runs the tool
// calls it gets (write_file asks a PreToolUse-style hook first, as Claude Code's http hook does),
// sends the results back, and prints one JSON event per line until the model calls `finish` or
// answers without a tool call. Its configuration is JSON in its last argument.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const config = JSON.parse(process.argv.at(-1));
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const auth = { authorization: `Bearer ${config.credential}`, 'content-type': 'application/json' };
const parameters = (properties) => ({ type: 'object', properties, required: Object.keys(properties) });
const tools = [
  ['write_file', { path: { type: 'string' }, content: { type: 'string' } }],
  ['read_file', { path: { type: 'string' } }],
  ['run_command', { command: { type: 'string' } }],
  ['finish', { summary: { type: 'string' } }],
].map(([name, properties]) => ({ type: 'function', function: { name, parameters: parameters(properties) } }));

/** Asks the hook about a tool call: its reason when it refuses, else null (no answer lets it run). */
async function refusal(tool, input) {
  try {
    const answer = await fetch(config.hookUrl, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: tool, tool_input: input }),
    });
    const decision = (await answer.json()).hookSpecificOutput;
    return decision?.permissionDecision === 'deny' ? decision.permissionDecisionReason : null;
  } catch {
    return null;
  }
}

/** Runs one tool call: its output for the model, and whether it went well. */
async function runTool(name, args) {
  if (name === 'write_file') {
    const refused = await refusal(name, args);
    if (refused) return { ok: false, output: refused };
    mkdirSync(dirname(args.path), { recursive: true });
    writeFileSync(args.path, args.content);
    return { ok: true, output: `wrote ${args.path}` };
  }
  if (name === 'read_file') {
    try {
      return { ok: true, output: readFileSync(args.path, 'utf8') };
    } catch (error) {
      return { ok: false, output: String(error) };
    }
  }
  if (name === 'run_command') {
    const ran = spawnSync('bash', ['-c', args.command], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return { ok: ran.status === 0, output: `${ran.stdout ?? ''}${ran.stderr ?? ''}`.slice(-20_000) };
  }
  return { ok: false, output: `no tool ${name}` };
}

emit({ type: 'session', id: 'fake-model-session' });
const messages = [{ role: 'user', content: config.prompt }];
for (;;) {
  const answer = await fetch(`${config.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ model: config.model, messages, tools }),
  });
  const body = await answer.json();
  if (!answer.ok) {
    emit({ type: 'done', ok: false, summary: `API error ${answer.status}: ${body.error?.message ?? ''}` });
    process.exit(1);
  }
  const message = body.choices[0].message;
  emit({ type: 'model', usage: { prompt: body.usage.prompt_tokens, completion: body.usage.completion_tokens } });
  messages.push(message);
  const calls = message.tool_calls ?? [];
  if (calls.length === 0) {
    emit({ type: 'done', ok: true, summary: message.content ?? '' });
    process.exit(0);
  }
  for (const call of calls) {
    const args = JSON.parse(call.function.arguments);
    if (call.function.name === 'finish') {
      emit({ type: 'done', ok: true, summary: args.summary });
      process.exit(0);
    }
    emit({ type: 'tool', id: call.id, tool: call.function.name, args });
    const result = await runTool(call.function.name, args);
    emit({ type: 'result', id: call.id, ok: result.ok, ...(result.ok ? {} : { error: result.output }) });
    messages.push({ role: 'tool', tool_call_id: call.id, content: result.output });
  }
}
