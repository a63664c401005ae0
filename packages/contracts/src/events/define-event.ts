import type { z } from 'zod';

/**
 * One entry of the event catalog: an integration event as it travels between
 * services. `type` is both the CloudEvents `type` and the NATS subject; the
 * `version` goes into `dataschema`. A new version is a new entry; old versions
 * stay in the catalog so stored and in-flight events remain readable.
 */
export interface EventDefinition<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly version: number;
  /** JetStream stream that stores this subject. */
  readonly stream: string;
  /**
   * The data field whose value names the event's sequence (an order, a user): consumers apply
   * the events of one sequence in order, and a dead-lettered one parks the later ones (ADR 0031).
   */
  readonly sequenceKey: string;
  readonly description: string;
  readonly schema: z.ZodType<Data>;
  readonly examples: readonly Data[];
  /**
   * Why consumers no longer accept this version: they dead-letter it. Kept in the catalog for
   * the record (and the schema checks); no producer may publish it.
   */
  readonly retired?: string;
}

/**
 * The definer of one stream's events, which all name their sequence by the same data field:
 * `const userEvent = streamEvents('USERS', 'userId')`, then `userEvent({ type, version, … })`.
 */
export function streamEvents(stream: string, sequenceKey: string) {
  return <const Type extends string, Data>(
    definition: Omit<EventDefinition<Type, Data>, 'stream' | 'sequenceKey'>,
  ): EventDefinition<Type, Data> => ({ ...definition, stream, sequenceKey });
}

/** The CloudEvents `dataschema` URI of an event version. */
export function dataSchemaUri(type: string, version: number): string {
  return `urn:conveyor:event:${type}:v${version}`;
}

export function parseDataSchemaUri(uri: string): { type: string; version: number } | undefined {
  const match = /^urn:conveyor:event:([a-z]+(?:\.[a-z_]+)+):v([1-9][0-9]*)$/.exec(uri);
  if (!match) return undefined;
  return { type: match[1]!, version: Number(match[2]) };
}
