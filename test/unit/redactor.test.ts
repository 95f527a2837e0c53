import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../../src/domain/redactor.js';
import { redactSecrets } from '../../src/domain/secrets.js';

const API_KEY = 'key-for-a-local-endpoint-0f3c9a'; // no well-known token shape: only the configured value can catch it

function pemKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
}

function bodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 8 && !line.startsWith('-----'));
}

describe('SecretRedactor', () => {
  it('replaces a configured value wherever it occurs and leaves the rest of the text alone', () => {
    const redactor = new SecretRedactor([API_KEY]);
    expect(redactor.text(`Incorrect API key provided: ${API_KEY}. Retry with ${API_KEY}`)).toBe(
      'Incorrect API key provided: [redacted]. Retry with [redacted]',
    );
    expect(redactor.text('nothing secret here')).toBe('nothing secret here');
  });

  it('ignores values shorter than 8 characters, which would hit ordinary words', () => {
    const redactor = new SecretRedactor(['no-key', 'main', undefined, '']);
    expect(redactor.text('no-key on main')).toBe('no-key on main');
  });

  it('redacts a token learned after construction, including git basic auth of it', () => {
    const redactor = new SecretRedactor();
    const token = 'v1.installation0123456789abcdef0123';
    expect(redactor.text(token)).toBe(token);
    redactor.add(token);
    const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    expect(redactor.text(`git failed (${header}) at https://x-access-token:${token}@github.com/o/r`)).toBe(
      'git failed (AUTHORIZATION: basic [redacted]) at https://x-access-token:[redacted]@github.com/o/r',
    );
  });

  it('redacts a PEM key as raw text, inside JSON, pasted with literal \\n, and line by line', () => {
    const pem = pemKey();
    const redactor = new SecretRedactor([pem]);
    const line = bodyLines(pem)[3]!;
    const texts = [
      `key:\n${pem}`,
      JSON.stringify({ key: pem }),
      `PRIVATE_KEY="${pem.trim().replace(/\n/g, '\\n')}"`,
      `error near "${line}"`,
      `one line: ${bodyLines(pem).join('')}`,
    ];
    for (const text of texts) {
      const redacted = redactor.text(text);
      expect(redacted).toContain('[redacted]');
      for (const body of bodyLines(pem)) expect(redacted).not.toContain(body);
    }
  });

  it('knows the key when it was configured with literal \\n on one line', () => {
    const pem = pemKey();
    const redactor = new SecretRedactor([pem.trim().replace(/\n/g, '\\n')]);
    const redacted = redactor.text(`printed: ${pem}`);
    for (const body of bodyLines(pem)) expect(redacted).not.toContain(body);
  });

  it('redacts every string in nested records and keeps their structure', () => {
    const redactor = new SecretRedactor([API_KEY]);
    const record = {
      id: 'run-1',
      step: 3,
      done: false,
      missing: null,
      error: `HTTP 401: ${API_KEY}`,
      nested: { list: ['a', `b ${API_KEY}`, 7, [API_KEY]], when: new Date(0) },
    };
    const redacted = redactor.deep(record);
    expect(redacted).toEqual({
      id: 'run-1',
      step: 3,
      done: false,
      missing: null,
      error: 'HTTP 401: [redacted]',
      nested: { list: ['a', 'b [redacted]', 7, ['[redacted]']], when: new Date(0) },
    });
    expect(record.error).toContain(API_KEY);
  });

  it('catches well-known token shapes nobody configured, but not words that merely contain "sk-"', () => {
    const redactor = new SecretRedactor();
    expect(redactor.text('token ghp_0123456789abcdefghijABCDEFGHIJ used')).toBe('token [redacted] used');
    expect(redactor.text('src/task-management-components-list.ts')).toBe('src/task-management-components-list.ts');
    expect(redactSecrets('src/task-management-components-list.ts')).toBe('src/task-management-components-list.ts');
  });
});
