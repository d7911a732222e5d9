import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com) for everything Rein sends to a
 * tenant's endpoint: action targets and webhook subscriptions. The receiver verifies
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with the secret it was
 * shown once, when the endpoint was created.
 */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** A new signing secret, `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `${SIGNING_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The three Standard Webhooks headers for one message. */
export function signatureHeaders(
  secret: string,
  messageId: string,
  timestamp: Date,
  body: string,
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, timestamp, body),
  };
}
