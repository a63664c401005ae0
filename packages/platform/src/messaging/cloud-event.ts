import {
  dataSchemaUri,
  type EventDefinition,
  type EventType,
  findEventDefinition,
  latestEventDefinition,
  parseDataSchemaUri,
} from '@conveyor/contracts/events';
import { v7 as uuidv7 } from 'uuid';

/**
 * An integration event in CloudEvents 1.0 terms. On NATS it travels in
 * binary mode: attributes as `ce-*` headers, data as the JSON payload.
 */
export interface CloudEvent<Data = unknown> {
  id: string;
  type: string;
  source: string;
  subject: string | undefined;
  time: string;
  dataschema: string;
  data: Data;
  /** W3C trace context of the operation that caused the event, when known. */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /**
   * Extension `streamversion`: the event's version in its event-sourced
   * stream (1 for the first), so consumers can detect duplicates and gaps.
   */
  streamversion?: number | undefined;
}

/** Raised for a message that can never be processed; it goes to dead letters at once. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/** Builds a validated event of the newest catalog version; ids are UUIDv7. */
export function newEvent<T extends EventType>(
  type: T,
  data: unknown,
  options: {
    source: string;
    subject?: string;
    time?: Date;
    id?: string;
    traceparent?: string;
    streamversion?: number;
    /** An older version of the event (fixtures, replays); the newest by default. */
    version?: number;
  },
): CloudEvent {
  const definition =
    options.version === undefined
      ? (latestEventDefinition(type) as EventDefinition)
      : findEventDefinition(type, options.version);
  if (!definition) throw new Error(`event ${type} has no version ${options.version}`);
  const parsed = definition.schema.safeParse(data);
  if (!parsed.success) {
    throw new Error(
      `event ${type} v${definition.version} does not match its schema: ${parsed.error.message}`,
    );
  }
  return {
    id: options.id ?? uuidv7(),
    type,
    source: options.source,
    subject: options.subject,
    time: (options.time ?? new Date()).toISOString(),
    dataschema: dataSchemaUri(type, definition.version),
    data: parsed.data,
    traceparent: options.traceparent,
    tracestate: undefined,
    streamversion: options.streamversion,
  };
}

/** Headers for binary mode, including `Nats-Msg-Id` so JetStream drops duplicates. */
export function toHeaders(event: CloudEvent): Record<string, string> {
  const headers: Record<string, string> = {
    'Nats-Msg-Id': event.id,
    'ce-specversion': '1.0',
    'ce-id': event.id,
    'ce-type': event.type,
    'ce-source': event.source,
    'ce-time': event.time,
    'ce-dataschema': event.dataschema,
    'content-type': 'application/json',
  };
  if (event.subject !== undefined) headers['ce-subject'] = event.subject;
  if (event.traceparent !== undefined) headers.traceparent = event.traceparent;
  if (event.tracestate !== undefined) headers.tracestate = event.tracestate;
  if (event.streamversion !== undefined) headers['ce-streamversion'] = String(event.streamversion);
  return headers;
}

export function encodeData(event: CloudEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(event.data));
}

/**
 * Reads and validates an event from headers and payload. Anything that can
 * never succeed (missing attributes, unknown type or version, data not
 * matching the schema) raises PoisonMessageError naming the problem.
 */
export function decodeEvent(headers: ReadonlyMap<string, string>, payload: Uint8Array): CloudEvent {
  const get = (name: string) => headers.get(name);
  const required = (name: string) => {
    const value = get(name);
    if (value === undefined || value === '') throw new PoisonMessageError(`missing header ${name}`);
    return value;
  };
  if (required('ce-specversion') !== '1.0') {
    throw new PoisonMessageError(`unsupported ce-specversion ${get('ce-specversion')}`);
  }
  const type = required('ce-type');
  const dataschema = required('ce-dataschema');
  const schemaRef = parseDataSchemaUri(dataschema);
  if (!schemaRef || schemaRef.type !== type) {
    throw new PoisonMessageError(`ce-dataschema ${dataschema} does not name a version of ${type}`);
  }
  const definition = findEventDefinition(type, schemaRef.version);
  if (!definition) throw new PoisonMessageError(`unknown event ${type} v${schemaRef.version}`);
  if (definition.retired) {
    throw new PoisonMessageError(`${type} v${schemaRef.version} is retired: ${definition.retired}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw new PoisonMessageError(`payload is not JSON: ${(error as Error).message}`);
  }
  const parsed = definition.schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`);
    throw new PoisonMessageError(`data does not match ${type} v${schemaRef.version}: ${issues.join('; ')}`);
  }
  const time = required('ce-time');
  if (Number.isNaN(Date.parse(time))) throw new PoisonMessageError(`ce-time ${time} is not a timestamp`);
  const rawVersion = get('ce-streamversion');
  const streamversion = rawVersion === undefined ? undefined : Number(rawVersion);
  if (streamversion !== undefined && !(Number.isSafeInteger(streamversion) && streamversion > 0)) {
    throw new PoisonMessageError(`ce-streamversion ${rawVersion} is not a positive integer`);
  }
  return {
    id: required('ce-id'),
    type,
    source: required('ce-source'),
    subject: get('ce-subject'),
    time,
    dataschema,
    data: parsed.data,
    traceparent: get('traceparent'),
    tracestate: get('tracestate'),
    streamversion,
  };
}
