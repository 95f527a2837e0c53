import { DEFAULT_LIMITS, limitsFromConfig } from '../../src/agent/limits.js';
import { BUDGET_DEFAULTS, GUARD_DEFAULTS } from '../../src/domain/agent-defaults.js';
import { RESOURCE_LIMIT_DEFAULTS } from '../../src/domain/resource-limits.js';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { secretsFromEnv } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/domain/errors.js';

describe('loadEnv', () => {
  it('fills defaults and treats empty strings as unset', () => {
    const env = loadEnv({ OPENAI_API_KEY: '', FANOUT_MODEL: 'm' });
    expect(env).toMatchObject({
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      FANOUT_MODEL: 'm',
      FANOUT_LLM_MAX_RETRIES: 3,
      FANOUT_LLM_STREAM: true,
      FANOUT_LLM_MAX_ANSWER_BYTES: 4 * 1024 * 1024,
    });
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });

  it('names every bad variable', () => {
    const error = (() => {
      try {
        loadEnv({
          OPENAI_BASE_URL: 'not a url',
          FANOUT_LLM_TIMEOUT_MS: '-5',
          FANOUT_LLM_STREAM: 'maybe',
          FANOUT_LLM_MAX_ANSWER_BYTES: '4MB',
        });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('- OPENAI_BASE_URL: must be an http:// or https:// URL');
    expect(message).toContain('- FANOUT_LLM_TIMEOUT_MS:');
    expect(message).toContain('- FANOUT_LLM_STREAM: must be true or false');
    expect(message).toContain('- FANOUT_LLM_MAX_ANSWER_BYTES: must be a whole number of bytes');
  });
});

describe('secretsFromEnv', () => {
  it("collects every configured secret under Probot's names, the key file's contents included", () => {
    const env = loadEnv({
      OPENAI_API_KEY: 'model-key-123456',
      OPENAI_BASE_URL: 'https://user:url-password-99@models.example/v1',
      APP_ID: '12345',
      PRIVATE_KEY_PATH: '/keys/app.pem',
      WEBHOOK_SECRET: 'webhook-secret-abc',
      GITHUB_TOKEN: 'ghs_token0123456789',
      REDIS_URL: 'redis://:redis-password-1@localhost:6379',
    });
    const files: Record<string, string> = {
      '/keys/app.pem': '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n',
    };
    const secrets = secretsFromEnv(env, (path) => files[path] ?? '');
    expect(secrets.sort()).toEqual(
      [
        files['/keys/app.pem'],
        'ghs_token0123456789',
        'model-key-123456',
        'redis-password-1',
        'url-password-99',
        'webhook-secret-abc',
      ].sort(),
    );
  });

  it('knows an inline PRIVATE_KEY given base64-encoded, as Probot accepts it, in both forms', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nBBBB\n-----END RSA PRIVATE KEY-----\n';
    const encoded = Buffer.from(pem).toString('base64');
    expect(secretsFromEnv(loadEnv({ PRIVATE_KEY: encoded }))).toEqual([encoded, pem]);
  });

  it('names PRIVATE_KEY_PATH when the key file is missing', () => {
    const env = loadEnv({ PRIVATE_KEY_PATH: '/nowhere/fanout-test-missing.pem' });
    expect(() => secretsFromEnv(env)).toThrow(ConfigError);
    expect(() => secretsFromEnv(env)).toThrow(
      /PRIVATE_KEY_PATH: there is no file at \/nowhere\/fanout-test-missing\.pem/,
    );
  });

  it('refuses an APP_ID that is not a number', () => {
    expect(() => loadEnv({ APP_ID: 'my-app' })).toThrow(/- APP_ID: must be the numeric App ID/);
  });
});

describe('parseRepoConfig', () => {
  it('uses defaults when the file is absent', () => {
    expect(parseRepoConfig(null)).toMatchObject({ validate: [], maxAgents: 4, maxSubtasks: 4, approval: 'auto' });
  });

  it('accepts commands as strings or objects', () => {
    const config = parseRepoConfig(
      'validate:\n  - npm test\n  - run: npx tsc --noEmit\n    timeoutSeconds: 60\napproval: manual\n',
    );
    expect(config.validate).toEqual([
      { run: 'npm test', timeoutSeconds: 600 },
      { run: 'npx tsc --noEmit', timeoutSeconds: 60 },
    ]);
    expect(config.approval).toBe('manual');
  });

  it('takes guard thresholds and refuses a cancel threshold below its hint', () => {
    expect(parseRepoConfig('guards:\n  repeatHintAt: 2\n  repeatCancelAt: 3\n').guards).toMatchObject({
      repeatHintAt: 2,
      repeatCancelAt: 3,
      errorStreak: 3,
    });
    expect(() => parseRepoConfig('guards:\n  noProgressHintAfter: 8\n  noProgressCancelAfter: 5\n')).toThrow(
      /- guards\.noProgressCancelAfter: noProgressCancelAfter must be greater/,
    );
  });

  it('takes resource limits with units (powers of 1024), defaults the rest, and names a bad limit', () => {
    expect(parseRepoConfig(null).limits).toEqual(RESOURCE_LIMIT_DEFAULTS);
    expect(parseRepoConfig('limits: { processes: 64, memory: 200M, fileSize: 1.5GiB }\n').limits).toEqual({
      ...RESOURCE_LIMIT_DEFAULTS,
      processes: 64,
      memory: 200 * 1024 ** 2,
      fileSize: 1.5 * 1024 ** 3,
    });
    const problems = (() => {
      try {
        parseRepoConfig('limits: { processes: 5, memory: lots, disk: 1K, cpus: 2 }\n');
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(problems).toContain('- limits.processes: Too small');
    expect(problems).toContain('- limits.memory: "lots" is not a size (write e.g. 512M or 4GiB)');
    expect(problems).toContain('- limits.disk: must be between 16M and 16T');
    expect(problems).toContain('Unrecognized key: "cpus"');
  });

  it('names unknown and invalid keys, and YAML errors', () => {
    expect(() => parseRepoConfig('maxAgent: 3\n')).toThrow(/Unrecognized key: "maxAgent"/);
    expect(() => parseRepoConfig('validate:\n  - run: ""\n')).toThrow(/- validate\.0/);
    expect(() => parseRepoConfig('validate: [unclosed\n')).toThrow(/not valid YAML/);
  });
  it('has one source of truth for guard and budget defaults: the configuration and the agent agree', () => {
    expect(parseRepoConfig('guards: {}\n').guards).toEqual(GUARD_DEFAULTS);
    expect(parseRepoConfig(null).budgets).toEqual(BUDGET_DEFAULTS);
    expect(limitsFromConfig(parseRepoConfig('guards: {}\n'))).toEqual(DEFAULT_LIMITS);
    expect(
      limitsFromConfig(parseRepoConfig('guards: { errorStreak: 5, stallSeconds: 30 }\nbudgets: { maxMinutes: 2 }\n')),
    ).toMatchObject({ errorStreak: 5, stallMs: 30_000, maxWallMs: 120_000 });
  });

  it('takes networkAllow as ranges or host:port, and names a bad entry and why', () => {
    const allow = ['10.1.0.0/16', '10.1.2.3', 'fd12::/48', '[fd12::5]:443', 'db.internal:5432', '127.0.0.1:8080'];
    expect(parseRepoConfig(`networkAllow: ${JSON.stringify(allow)}\n`).networkAllow).toEqual(allow);
    expect(parseRepoConfig(null).networkAllow).toEqual([]);
    const message = (text: string) => {
      try {
        parseRepoConfig(text);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(message('networkAllow: ["10.0.0.0/8", "10.1.2.3/16"]\n')).toMatch(
      /- networkAllow\.1: "10\.1\.2\.3\/16" has bits set past \/16: did you mean 10\.1\.0\.0\/16\?/,
    );
    expect(message('networkAllow: ["10.0.0.0/33"]\n')).toContain('"10.0.0.0/33": /33 is not a prefix length 0-32');
    expect(message('networkAllow: ["db.internal:99999"]\n')).toContain(
      '"db.internal:99999": port 99999 is not 1-65535',
    );
    expect(message('networkAllow: ["127.0.0.1"]\n')).toContain('"127.0.0.1" is this machine\'s loopback');
    expect(message('networkAllow: ["http://proxy:3128"]\n')).toContain('"http://proxy:3128" is neither a range');
  });
});
