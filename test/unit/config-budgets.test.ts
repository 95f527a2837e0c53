import { describe, expect, it } from 'vitest';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { runDeadline, spendBudgets } from '../../src/domain/run-budgets.js';

describe('budgets: and runBudgets: in .github/fanout.yml', () => {
  it('has no dollar limit and no run budget unless set, and hands the gateway what is set', () => {
    const defaults = parseRepoConfig(null);
    expect(defaults.budgets).not.toHaveProperty('maxUsd');
    expect(defaults.runBudgets).toEqual({});
    expect(spendBudgets(defaults)).toEqual({ agent: { maxTokens: 2_000_000 }, run: {} });

    const set = parseRepoConfig(
      'budgets: { maxTokens: 50000, maxUsd: 0.5 }\nrunBudgets: { maxTokens: 200000, maxUsd: 2, maxMinutes: 45 }\n',
    );
    expect(spendBudgets(set)).toEqual({
      agent: { maxTokens: 50_000, maxUsd: 0.5 },
      run: { maxTokens: 200_000, maxUsd: 2 },
    });
  });

  it('refuses a bad figure or an unknown key, naming it', () => {
    expect(() => parseRepoConfig('budgets: { maxUsd: -1 }\n')).toThrow(/- budgets\.maxUsd: /);
    expect(() => parseRepoConfig('runBudgets: { maxTokens: 1.5 }\n')).toThrow(/- runBudgets\.maxTokens: /);
    expect(() => parseRepoConfig('runBudgets: { maxMinutes: 0 }\n')).toThrow(/- runBudgets\.maxMinutes: /);
    expect(() => parseRepoConfig('runBudgets: { maxDollars: 5 }\n')).toThrow(/Unrecognized key: "maxDollars"/);
  });

  it("ends the run's time its minutes after the run started, the same on every machine; none without maxMinutes", () => {
    const config = parseRepoConfig('runBudgets: { maxMinutes: 90 }\n');
    expect(runDeadline({ config, createdAt: '2026-01-01T10:00:00.000Z' })).toEqual({
      at: Date.parse('2026-01-01T11:30:00.000Z'),
      message: "Fanout budget reached: the run's 90 minutes (runBudgets.maxMinutes) are up",
    });
    expect(runDeadline({ config: parseRepoConfig(null), createdAt: '2026-01-01T10:00:00.000Z' })).toBeNull();
  });
});
