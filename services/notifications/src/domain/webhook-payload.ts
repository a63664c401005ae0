import type { CloudEvent } from '@conveyor/platform/core';

/** The event attributes a webhook body carries: the CloudEvent without its trace and stream extensions. */
export type WebhookEvent = Omit<CloudEvent, 'traceparent' | 'tracestate' | 'streamversion'>;

/**
 * The body POSTed to a webhook: the event as a CloudEvents 1.0 JSON document
 * (structured mode). Rendered from the event alone, so a resend carries the
 * same bytes.
 */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({
    specversion: '1.0',
    id: event.id,
    type: event.type,
    source: event.source,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    time: event.time,
    dataschema: event.dataschema,
    datacontenttype: 'application/json',
    data: event.data,
  });
}
