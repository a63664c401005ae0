import { z } from 'zod';
import { catalog } from '../events/catalog.ts';
import { dataSchemaUri, type EventDefinition } from '../events/define-event.ts';

/**
 * The AsyncAPI 3.0 document of Conveyor's integration events, derived from the
 * event catalog (docs/asyncapi.yaml is written from it by scripts/gen.ts): one
 * channel per subject, one message per event type and version with its JSON
 * Schema, and the CloudEvents binary-mode headers every message carries.
 */
export function asyncApiDocument(events: readonly EventDefinition[] = catalog): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const type of [...new Set(events.map((e) => e.type))]) {
    const channelId = camel(type);
    const versions = events.filter((e) => e.type === type).sort((a, b) => a.version - b.version);
    const channelMessages: Record<string, unknown> = {};
    for (const definition of versions) {
      const id = messageId(definition);
      messages[id] = message(definition);
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
    }
    channels[channelId] = {
      address: type,
      title: type,
      description: `Subject ${type} on JetStream stream ${versions[0]!.stream}. ${versions.at(-1)!.description}`,
      messages: channelMessages,
    };
    operations[`receive${pascal(type)}`] = {
      action: 'receive',
      title: `Consume ${type}`,
      description: `Delivered at least once; consumers dedupe by ce-id and dead-letter versions they do not know.`,
      channel: { $ref: `#/channels/${channelId}` },
      messages: versions.map((d) => ({ $ref: `#/channels/${channelId}/messages/${messageId(d)}` })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Conveyor integration events',
      version: '1.0.0',
      description:
        'Events between Conveyor services over NATS JetStream: CloudEvents 1.0 in binary mode ' +
        '(attributes in ce-* headers, JSON data validated against the versioned schema named by ' +
        'ce-dataschema). Generated from packages/contracts/src/events by `node scripts/gen.ts`; do not edit.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:4222',
        protocol: 'nats',
        description: 'The nats-server of `conveyor up` (JetStream enabled).',
      },
    },
    channels,
    operations,
    components: { messages, schemas: { cloudEventHeaders: cloudEventHeaders() } },
  };
}

function message(definition: EventDefinition): Record<string, unknown> {
  const { $schema: _ignored, ...payload } = z.toJSONSchema(definition.schema, { target: 'draft-7' });
  const schemaUri = dataSchemaUri(definition.type, definition.version);
  return {
    name: definition.type,
    title: `${definition.type} v${definition.version}`,
    summary: definition.retired
      ? `Retired: consumers dead-letter it (${definition.retired}). ${definition.description}`
      : definition.description,
    contentType: 'application/json',
    headers: {
      allOf: [
        { $ref: '#/components/schemas/cloudEventHeaders' },
        {
          type: 'object',
          properties: { 'ce-type': { const: definition.type }, 'ce-dataschema': { const: schemaUri } },
        },
      ],
    },
    payload,
    examples: definition.examples.map((example, i) => ({
      name: `example${i + 1}`,
      headers: {
        'ce-specversion': '1.0',
        'ce-id': '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
        'ce-type': definition.type,
        'ce-source': definition.stream === 'USERS' ? 'conveyor/users' : 'conveyor/orders',
        'ce-time': '2026-11-24T09:30:00.000Z',
        'ce-dataschema': schemaUri,
        'content-type': 'application/json',
        'Nats-Msg-Id': '0192f3a0-7c1e-7b6a-9d0e-3f4a5b6c7d8e',
      },
      payload: example,
    })),
  };
}

function cloudEventHeaders(): Record<string, unknown> {
  const text = (description: string) => ({ type: 'string', minLength: 1, description });
  return {
    type: 'object',
    description: 'CloudEvents 1.0 binary-mode attributes as NATS headers, with W3C trace context.',
    required: ['ce-specversion', 'ce-id', 'ce-type', 'ce-source', 'ce-time', 'ce-dataschema'],
    properties: {
      'ce-specversion': { type: 'string', const: '1.0' },
      'ce-id': { ...text('Event id (UUIDv7); also the Nats-Msg-Id and the inbox key.'), format: 'uuid' },
      'ce-type': text('Event type; equals the subject.'),
      'ce-source': text('Publishing service, e.g. conveyor/orders.'),
      'ce-subject': text('The entity the event is about, e.g. the order id.'),
      'ce-time': { type: 'string', format: 'date-time' },
      'ce-dataschema': {
        type: 'string',
        pattern: '^urn:conveyor:event:[a-z]+(\\.[a-z_]+)+:v[1-9][0-9]*$',
        description: 'Type and version of the data; an unknown version is dead-lettered.',
      },
      'ce-streamversion': {
        type: 'string',
        pattern: '^[1-9][0-9]*$',
        description: 'Position of the event in its event-sourced stream (extension).',
      },
      'Nats-Msg-Id': text('JetStream de-duplication id (the event id).'),
      'content-type': { type: 'string', const: 'application/json' },
      traceparent: text('W3C trace context.'),
      tracestate: text('W3C trace state.'),
    },
  };
}

function messageId(definition: EventDefinition): string {
  return `${camel(definition.type)}V${definition.version}`;
}

function camel(type: string): string {
  return type.replace(/[._]([a-z])/g, (_, c: string) => c.toUpperCase());
}

function pascal(type: string): string {
  const c = camel(type);
  return c.charAt(0).toUpperCase() + c.slice(1);
}
