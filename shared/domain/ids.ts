import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A sortable, URL-safe id: 10 characters of millisecond time then 16 random characters
 * (Crockford base32, lower case), prefixed with the kind, e.g. `run_01jd…`.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i += 1) {
    time = (ALPHABET[t % 32] ?? '0') + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let rest = '';
  for (const byte of random) rest += ALPHABET[byte % 32] ?? '0';
  return `${prefix}_${time}${rest}`;
}

/** Ids accepted in paths: our own id format, nothing that could traverse or inject. */
export const ID_PATTERN = /^[a-z]{2,8}_[0-9a-z]{26}$/;
