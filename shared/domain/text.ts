import { z } from 'zod';

/**
 * Text that reaches a model or a reviewer: no control characters (tab and newlines allowed) and no
 * model special tokens such as `<|endoftext|>` or `<|im_start|>`, which some tokenizers treat as
 * structure rather than text.
 */
export const SPECIAL_TOKEN = /<\|[a-z_]{1,40}\|>/i;
const CONTROL = /(?![\n\r\t])\p{Cc}/u;

export function isSafeText(value: string): boolean {
  return !CONTROL.test(value) && !SPECIAL_TOKEN.test(value);
}

export function safeText(maxLength: number) {
  return z
    .string()
    .max(maxLength)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .refine(
      (value) => !SPECIAL_TOKEN.test(value),
      'must not contain model special tokens such as <|endoftext|>',
    );
}

/** Every string inside a JSON value passes `isSafeText`. */
export function allTextSafe(value: unknown): boolean {
  if (typeof value === 'string') return isSafeText(value);
  if (Array.isArray(value)) return value.every(allTextSafe);
  if (value !== null && typeof value === 'object') return Object.values(value).every(allTextSafe);
  return true;
}
