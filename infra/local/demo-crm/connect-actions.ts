import { putActionTarget } from '#shared/usecases/actions.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import { CRM_TARGET_ID } from '#shared/workflows/renewal-brief.ts';
import type { ActionReceiver } from './action-receiver.ts';

/**
 * Points each demo tenant's `crm` action target at the local action receiver, through the same use
 * case as `PUT /v1/action-targets/crm`, and hands the receiver each tenant's signing secret: the one
 * shown when the target is created, or (on a later start) the one the local secret stand-in kept.
 */
export async function connectDemoActionTargets(
  deps: Deps,
  receiver: ActionReceiver,
  tenants: readonly { tenantId: string }[],
): Promise<void> {
  for (const { tenantId } of tenants) {
    const { target } = await putActionTarget(
      deps,
      { sub: 'local-stack', tenantId, roles: ['admin'] },
      CRM_TARGET_ID,
      { url: receiver.actionsUrl, description: 'Local demo CRM (npm start)' },
    );
    const secret =
      target.signingSecret ?? (await deps.signingSecrets.getSigningSecret(tenantId, CRM_TARGET_ID));
    if (secret !== null) receiver.setSecret(tenantId, secret);
  }
}
