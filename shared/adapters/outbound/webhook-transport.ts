import type { OutboundPolicy } from '../../outbound/address-policy.ts';
import { checkOutboundTarget, sendOutbound } from '../../outbound/http.ts';
import type { WebhookTransport } from '../../ports/index.ts';

/** A webhook endpoint has 10 s to answer; its answer body is read up to 64 KiB and ignored. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_MAX_ANSWER_BYTES = 64 * 1024;

/** Webhook requests through Rein's one outbound sender (address policy, no redirects, bounded). */
export class OutboundWebhookTransport implements WebhookTransport {
  constructor(private readonly policy: OutboundPolicy) {}

  async post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }> {
    const response = await sendOutbound(
      {
        url,
        method: 'POST',
        headers,
        body,
        timeoutMs: WEBHOOK_TIMEOUT_MS,
        maxBytes: WEBHOOK_MAX_ANSWER_BYTES,
      },
      this.policy,
    );
    return { status: response.status };
  }

  async checkTarget(url: string): Promise<void> {
    await checkOutboundTarget(url, this.policy);
  }
}
