// Tests use the same scripted endpoint as `fanout demo`: one implementation of the wire format.
export { startScriptedServer, type ScriptedServer } from '../../src/scripted-model/server.js';
export type { ScriptedReply, RecordedRequest, Script } from '../../src/scripted-model/types.js';
