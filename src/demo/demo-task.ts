import type { ScriptedReply } from '../scripted-model/types.js';

/** The task the demo asks for on the sample repository. */
export const DEMO_TASK = 'Add input validation to the CLI (reject a missing or blank name with a clear message), add a --shout flag, and cover both with tests.';

/**
 * The scripted planner's answers: a first plan whose subtasks both claim package.json, so the
 * demo shows Fanout naming the overlap and the planner fixing it.
 */
export function demoPlannerReplies(): ScriptedReply[] {
  const validation = {
    id: 'cli-validation',
    title: 'Validate the CLI input',
    instructions: 'In src/cli.js, exit with code 2 and the message "error: a name is required" when the name is missing or blank. Add test/cli-validation.test.js covering both cases.',
    writeScope: ['src/cli.js', 'test/cli-validation.test.js'],
    readScope: ['src/greet.js'],
    dependsOn: [],
  };
  const shout = {
    id: 'shout-flag',
    title: 'Add a shout option to greet',
    instructions: 'Give greet(name, options) an optional { shout: true } that upper-cases the greeting. Add test/shout.test.js.',
    writeScope: ['src/greet.js', 'test/shout.test.js', 'package.json'],
    readScope: ['src/index.js'],
    dependsOn: [],
  };
  const overlapping = { subtasks: [{ ...validation, writeScope: [...validation.writeScope, 'package.json'] }, shout] };
  const fixed = { subtasks: [validation, { ...shout, writeScope: ['src/greet.js', 'test/shout.test.js'] }] };
  return [{ content: JSON.stringify(overlapping) }, { content: JSON.stringify(fixed) }];
}
