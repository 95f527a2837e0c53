import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureOutput } from '../support/capture-output.js';

describe('fanout demo (the README main command)', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs the whole pipeline on a sample repository with a scripted model, and says so', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const output = captureOutput();
    expect(await main(['demo'], output)).toBe(0);
    const text = output.stdout();
    expect(text).toContain('No OPENAI_API_KEY is set: using a SCRIPTED model');
    expect(text).toMatch(/PARTIAL \(2 of 3 merged into main\)/);
    expect(text).toMatch(/cli-validation\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/shout\s+merged\s+#\d\s+passed/);
    expect(text).toMatch(/changelog\s+failed: looping/);
    // One commit per merged subtask on main, carrying its PR number, in plan order (newest first).
    const history = text.slice(text.indexOf('History of main'));
    expect(history).toMatch(/Add a shout option to greet \(#\d\)/);
    expect(history.indexOf('Add a shout option to greet')).toBeLessThan(history.indexOf('Validate the CLI input'));
    expect(history).not.toContain('Merge main into');
  });
});
