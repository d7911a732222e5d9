import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { required } from '#shared/config.ts';
import { EventBridgeBus } from '#shared/adapters/eventbridge/event-bus.ts';
import type { SdkAdapters } from './deps.ts';

/** The stage's EventBridge bus, for the event delivery function. */
export const eventBridge: SdkAdapters = {
  eventBus: (env) =>
    env.EVENT_BUS_NAME
      ? new EventBridgeBus(
          new EventBridgeClient({ region: required(env, 'AWS_REGION') }),
          env.EVENT_BUS_NAME,
          env.REIN_ENV,
        )
      : undefined,
};
