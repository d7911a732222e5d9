import type { ActionTarget } from '#shared/domain/action-targets.ts';
import { OutboundError, type OutboundRequest, type OutboundResponse } from '#shared/outbound/http.ts';
import type { ActionTargetStore, OutboundSender, SigningSecretStore } from '#shared/ports/index.ts';

/** Action targets in memory, create-or-replace like the DynamoDB store. */
export class InMemoryActionTargets implements ActionTargetStore {
  private readonly targets = new Map<string, ActionTarget>();

  putTarget(target: ActionTarget): Promise<{ created: boolean; target: ActionTarget }> {
    const key = `${target.tenantId}#${target.targetId}`;
    const existing = this.targets.get(key);
    const stored = existing
      ? { ...existing, url: target.url, description: target.description, updatedAt: target.updatedAt }
      : target;
    this.targets.set(key, stored);
    return Promise.resolve({ created: !existing, target: structuredClone(stored) });
  }

  getTarget(tenantId: string, targetId: string): Promise<ActionTarget | null> {
    const target = this.targets.get(`${tenantId}#${targetId}`);
    return Promise.resolve(target ? structuredClone(target) : null);
  }
}

export class InMemorySigningSecrets implements SigningSecretStore {
  readonly secrets = new Map<string, string>();

  putSigningSecret(tenantId: string, targetId: string, secret: string): Promise<void> {
    this.secrets.set(`${tenantId}#${targetId}`, secret);
    return Promise.resolve();
  }

  getSigningSecret(tenantId: string, targetId: string): Promise<string | null> {
    return Promise.resolve(this.secrets.get(`${tenantId}#${targetId}`) ?? null);
  }
}

/** One scripted answer: an HTTP status (with an optional JSON body) or an outbound failure. */
export type ScriptedAnswer = { status: number; body?: unknown } | { fail: OutboundError['reason'] };

/** Records every request and answers from a script (default: 200 with `{"id":"rec-<n>"}`). */
export class FakeOutbound implements OutboundSender {
  readonly requests: OutboundRequest[] = [];
  private readonly script: ScriptedAnswer[] = [];

  answer(...answers: ScriptedAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  send(request: OutboundRequest): Promise<OutboundResponse> {
    this.requests.push(request);
    const next = this.script.shift() ?? { status: 200, body: { id: `rec-${this.requests.length}` } };
    if ('fail' in next) return Promise.reject(new OutboundError(next.fail, `scripted ${next.fail}`));
    return Promise.resolve({
      status: next.status,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(next.body === undefined ? '' : JSON.stringify(next.body)),
      latencyMs: 1,
    });
  }
}
