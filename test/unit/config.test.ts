import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { ConfigError } from '../../src/domain/errors.js';

describe('loadEnv', () => {
  it('fills defaults and treats empty strings as unset', () => {
    const env = loadEnv({ OPENAI_API_KEY: '', FANOUT_MODEL: 'm' });
    expect(env).toMatchObject({ OPENAI_BASE_URL: 'https://api.openai.com/v1', FANOUT_MODEL: 'm', FANOUT_LLM_MAX_RETRIES: 3, FANOUT_LLM_STREAM: true });
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });

  it('names every bad variable', () => {
    const error = (() => {
      try {
        loadEnv({ OPENAI_BASE_URL: 'not a url', FANOUT_LLM_TIMEOUT_MS: '-5', FANOUT_LLM_STREAM: 'maybe' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('- OPENAI_BASE_URL: must be a URL');
    expect(message).toContain('- FANOUT_LLM_TIMEOUT_MS:');
    expect(message).toContain('- FANOUT_LLM_STREAM: must be true or false');
  });
});

describe('parseRepoConfig', () => {
  it('uses defaults when the file is absent', () => {
    expect(parseRepoConfig(null)).toMatchObject({ validate: [], maxAgents: 4, maxSubtasks: 4, approval: 'auto' });
  });

  it('accepts commands as strings or objects', () => {
    const config = parseRepoConfig('validate:\n  - npm test\n  - run: npx tsc --noEmit\n    timeoutSeconds: 60\napproval: manual\n');
    expect(config.validate).toEqual([
      { run: 'npm test', timeoutSeconds: 600 },
      { run: 'npx tsc --noEmit', timeoutSeconds: 60 },
    ]);
    expect(config.approval).toBe('manual');
  });

  it('takes guard thresholds and refuses a cancel threshold below its hint', () => {
    expect(parseRepoConfig('guards:\n  repeatHintAt: 2\n  repeatCancelAt: 3\n').guards).toMatchObject({ repeatHintAt: 2, repeatCancelAt: 3, errorStreak: 3 });
    expect(() => parseRepoConfig('guards:\n  noProgressHintAfter: 8\n  noProgressCancelAfter: 5\n')).toThrow(/- guards\.noProgressCancelAfter: noProgressCancelAfter must be greater/);
  });

  it('names unknown and invalid keys, and YAML errors', () => {
    expect(() => parseRepoConfig('maxAgent: 3\n')).toThrow(/Unrecognized key: "maxAgent"/);
    expect(() => parseRepoConfig('validate:\n  - run: ""\n')).toThrow(/- validate\.0/);
    expect(() => parseRepoConfig('validate: [unclosed\n')).toThrow(/not valid YAML/);
  });
});
