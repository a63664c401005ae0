import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  type ChannelInterface,
  type MessageExampleInterface,
  type MessageInterface,
  Parser,
} from '@asyncapi/parser';
import { catalog, dataSchemaUri } from '@conveyor/contracts';
import { repoRoot } from '@conveyor/stack';
import { parse as parseYaml, stringify } from 'yaml';
import { asyncApiDocument } from '../../packages/contracts/src/asyncapi/asyncapi-document.ts';

// DiagnosticSeverity of @asyncapi/parser (spectral): 0 = error.
const ERROR = 0;
const committed = readFileSync(`${repoRoot}/docs/asyncapi.yaml`, 'utf8');
// The validity checks run on the document the generator makes now, so a stale file fails only the first test.
const generated = stringify(asyncApiDocument(), { lineWidth: 0 });

async function parse(text: string) {
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === ERROR);
  return { document, errors };
}

describe('AsyncAPI document of the event catalog', () => {
  it('docs/asyncapi.yaml is what the generator makes from the catalog (run node scripts/gen.ts)', () => {
    assert.deepEqual(parseYaml(committed), asyncApiDocument());
  });

  it('is a valid AsyncAPI 3.0 document: @asyncapi/parser reports no error', async () => {
    const { document, errors } = await parse(generated);
    assert.deepEqual(
      errors.map((e) => `${e.path.join('.')}: ${e.message}`),
      [],
    );
    assert.ok(document);
    assert.equal(document.version(), '3.0.0');
  });

  it('has a channel per subject and a message per event type and version, with schema and examples', async () => {
    const { document } = await parse(generated);
    assert.ok(document);
    const addresses = document
      .channels()
      .all()
      .map((c) => c.address());
    assert.deepEqual(addresses.sort(), [...new Set(catalog.map((d) => d.type))].sort());
    for (const definition of catalog) {
      const id = `${definition.type.replace(/[._](\w)/g, (_, c: string) => c.toUpperCase())}V${definition.version}`;
      const channel: ChannelInterface | undefined = document
        .channels()
        .all()
        .find((c) => c.address() === definition.type);
      const message: MessageInterface | undefined = channel
        ? channel
            .messages()
            .all()
            .find((m: MessageInterface) => m.id() === id)
        : undefined;
      assert.ok(message, `message for ${definition.type} v${definition.version}`);
      assert.equal(message.payload()?.type(), 'object');
      const required = message.payload()?.required() ?? [];
      assert.ok(required.length > 0, `${definition.type} payload lists required fields`);
      const example: MessageExampleInterface | undefined = message.examples().all()[0];
      assert.ok(example, `${definition.type} v${definition.version} has an example`);
      assert.deepEqual(example.payload(), definition.examples[0]);
      assert.equal(
        (example.headers() as Record<string, string>)['ce-dataschema'],
        dataSchemaUri(definition.type, definition.version),
      );
      assert.ok(message.headers()?.json(), 'CloudEvents headers schema');
    }
  });

  it('fails validation when a message is broken (the check can fail)', async () => {
    const broken = asyncApiDocument() as { channels: Record<string, { address: unknown }> };
    broken.channels.orderCreated!.address = 42;
    const { errors } = await parse(JSON.stringify(broken));
    assert.ok(errors.length > 0);
  });
});
