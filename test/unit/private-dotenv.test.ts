import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { updatePrivateDotEnv } from '../../src/config/private-dotenv.js';
import { tempDir } from '../support/temp-dir.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n';

describe('the .env Fanout writes (for Probot setup)', () => {
  it('is created 0600, in the format Probot reads back', async () => {
    const directory = await tempDir('fanout-dotenv-');
    const target: NodeJS.ProcessEnv = {};

    updatePrivateDotEnv({ APP_ID: '42', PRIVATE_KEY: `"${PEM}"`, WEBHOOK_SECRET: 'hook-secret' }, directory, target);

    const path = join(directory, '.env');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(parseEnv(await readFile(path, 'utf8'))).toEqual({
      APP_ID: '42',
      PRIVATE_KEY: PEM,
      WEBHOOK_SECRET: 'hook-secret',
    });
    expect(target.APP_ID).toBe('42');
  });

  it('makes an existing, world-readable .env private, keeping what it held (a private key too)', async () => {
    const directory = await tempDir('fanout-dotenv-');
    const path = join(directory, '.env');
    await writeFile(path, `OPENAI_API_KEY=sk-local\nPRIVATE_KEY="${PEM.replace(/\n/g, '\\n')}"\n`);
    await chmod(path, 0o644);

    updatePrivateDotEnv({ WEBHOOK_PROXY_URL: 'https://smee.io/abc' }, directory, {});

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(parseEnv(await readFile(path, 'utf8'))).toEqual({
      OPENAI_API_KEY: 'sk-local',
      PRIVATE_KEY: PEM,
      WEBHOOK_PROXY_URL: 'https://smee.io/abc',
    });
  });
});
