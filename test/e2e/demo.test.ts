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
    // Sequential merges: both pull requests appear on main's first-parent history, in plan order.
    const history = text.slice(text.indexOf('History of main'));
    expect(history.indexOf('/shout')).toBeGreaterThan(-1);
    expect(history.indexOf('/shout')).toBeLessThan(history.indexOf('/cli-validation'));
  });
});
