import { Type, type Static } from '@sinclair/typebox';
import { literals } from '../platform/http/schemas.js';
import { MODEL_EVENT_KINDS } from '../registry/types.js';
import { MONITOR_EVENT_KINDS } from '@kiln-mlops/sdk/contract/monitoring-schemas';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

/** The JSON body of a delivery: one line of a model's history, or a monitor's alert firing or resolving (see docs/webhooks.md). */
export const WebhookPayload = Type.Object(
  {
    id: Type.String({ description: 'evt_<n>: the event id, the same for every attempt and redelivery (the idempotency key)' }),
    kind: literals([...MODEL_EVENT_KINDS, ...MONITOR_EVENT_KINDS, 'ping'] as const),
    time: Type.Integer(),
    model: Nullable(Type.String()),
    version: Nullable(Type.String()),
    alias: Nullable(Type.String()),
    actor: Type.String(),
    reason: Nullable(Type.String()),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { $id: 'WebhookPayload' },
);
export type WebhookPayload = Static<typeof WebhookPayload>;
