import { type KeyObject, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import type { IssuedToken } from './state.js';

export interface AppKeys {
  privateKey: string;
  publicKey: KeyObject;
}

let cachedKeys: AppKeys | undefined;

/** A test App's RSA key pair (generated once per test process: it takes a moment). */
export function appKeys(): AppKeys {
  if (!cachedKeys) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedKeys = {
      privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKey: pair.publicKey,
    };
  }
  return cachedKeys;
}

/** True when `jwt` is an RS256 token signed with the App's key, issued by `appId` and not expired. */
export function verifyAppJwt(jwt: string, appId: number, publicKey: KeyObject): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return false;
  if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url')))
    return false;
  const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (typeof claims !== 'object' || claims === null) return false;
  const { iss, exp } = claims as { iss?: unknown; exp?: unknown };
  return String(iss) === String(appId) && typeof exp === 'number' && exp * 1000 > Date.now();
}

/** Issues a new installation token that lives `lifetimeMs`. */
export function issueToken(tokens: IssuedToken[], installationId: number, lifetimeMs: number): IssuedToken {
  const issued = {
    token: `ghs_${randomBytes(18).toString('base64url')}`,
    label: `token-${tokens.length + 1}`,
    installationId,
    expiresAt: Date.now() + lifetimeMs,
  };
  tokens.push(issued);
  return issued;
}

/** The token an `Authorization` header carries (`token X`, `bearer X`, or git's Basic `x-access-token:X`). */
export function credentialOf(
  authorization: string | undefined,
): { scheme: 'token' | 'bearer' | 'basic'; value: string } | null {
  if (!authorization) return null;
  const [scheme = '', value = ''] = authorization.split(' ');
  const lower = scheme.toLowerCase();
  if (lower === 'token' || lower === 'bearer') return { scheme: lower, value };
  if (lower !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString();
  const colon = decoded.indexOf(':');
  return decoded.slice(0, colon) === 'x-access-token' ? { scheme: 'basic', value: decoded.slice(colon + 1) } : null;
}
