import { z } from 'zod';
import { Problem } from './api-schemas.ts';
import type { Route } from './route.ts';

const schemaOf = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
const inputSchemaOf = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: schemaOf(Problem) } },
});

/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...Object.entries(route.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: description.startsWith('required'),
        description,
        schema: { type: 'string' },
      })),
    ];
    const success =
      route.response === 'sse'
        ? {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          }
        : { description: 'OK', content: { 'application/json': { schema: schemaOf(route.response) } } };
    const responses: Record<string, unknown> = {
      [String(route.status ?? 200)]: success,
      ...(route.alternate
        ? { [String(route.alternate.status)]: { ...success, description: route.alternate.description } }
        : {}),
      '400': problemResponse('Invalid input; `field` names the offending field'),
      '503': problemResponse('A service did not answer'),
    };
    if (route.auth !== 'none') responses['401'] = problemResponse('No valid session cookie or bearer token');
    if (route.auth === 'admin') responses['403'] = problemResponse('Admins only');
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      ...(route.auth === 'none' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.request
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: inputSchemaOf(route.request) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Conveyor gateway',
      version: '1.0.0',
      description:
        'The public HTTP edge of Conveyor. Errors are RFC 9457 problem details. State-changing requests must send ' +
        'content-type: application/json (CSRF defence). Authenticate with the session cookie set by /api/login or ' +
        'with Authorization: Bearer <token>.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'conveyor_session',
          description: 'Set by /api/login; named `__Host-conveyor_session` over https',
        },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
    security: [{ session: [] }, { bearer: [] }],
    paths,
  };
}
