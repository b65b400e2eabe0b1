/**
 * Bearer secrets (sensor tokens, login sessions): 32 random bytes, so a fast hash is enough to
 * store them; the hub keeps only the SHA-256. The prefix tells a reader what a leaked string is.
 */
import { createHash, randomBytes } from 'node:crypto';

export type SecretKind = 'sensor-token' | 'session';
const PREFIX: Record<SecretKind, string> = { 'sensor-token': 'rws_', session: 'rwu_' };

export function newSecret(kind: SecretKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function sha256(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newId(prefix: string): string {
  return prefix + randomBytes(4).toString('hex');
}
