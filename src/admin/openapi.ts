// The admin API's OpenAPI 3.1 document, made from its route table (src/admin/routes.ts) and the zod
// schemas the routes parse and answer with: nothing here restates a field.
import { createRequire } from 'node:module';
import { z } from 'zod';
import { createClientInput, rotateSecretInput, updateClientInput } from '../clients/schema.js';
import { clientPageSchema, clientViewSchema, clientWithSecretSchema } from '../clients/views.js';
import { auditEventSchema, auditPageSchema } from '../audit/query.js';
import { errorBodySchema } from '../http/answers.js';
import { RETRY_AFTER_UNAVAILABLE } from '../http/errors.js';
import { MAX_BODY_BYTES } from '../http/validate.js';
import { createResourceServerInput, updateResourceServerInput } from '../resource-servers/schema.js';
import { resourceServerPageSchema, resourceServerViewSchema } from '../resource-servers/views.js';
import { createUserInput, updateUserInput } from '../users/schema.js';
import { consentListSchema, consentViewSchema, userPageSchema, userViewSchema } from '../users/views.js';
import { ADMIN_SCOPE } from './auth.js';
import { PROJECT_ROOT } from '../project-root.js';
import { adminRoute, type AdminRoute } from './routes.js';

export const OPENAPI_PATH = '/openapi.json';

/** The schemas the document names in components.schemas, by the direction they travel; others are inlined. */
const COMPONENTS = {
  input: {
    CreateClient: createClientInput,
    UpdateClient: updateClientInput,
    RotateSecret: rotateSecretInput,
    CreateUser: createUserInput,
    UpdateUser: updateUserInput,
    CreateResourceServer: createResourceServerInput,
    UpdateResourceServer: updateResourceServerInput,
  },
  output: {
    Client: clientViewSchema,
    ClientWithSecret: clientWithSecretSchema,
    ClientPage: clientPageSchema,
    User: userViewSchema,
    UserPage: userPageSchema,
    Consent: consentViewSchema,
    ConsentList: consentListSchema,
    ResourceServer: resourceServerViewSchema,
    ResourceServerPage: resourceServerPageSchema,
    AuditEvent: auditEventSchema,
    AuditPage: auditPageSchema,
    Error: errorBodySchema,
  },
} as const;

/** What every admin route may answer besides its own statuses, and why. */
const FAILURES: Record<number, string> = {
  400: 'Invalid input; `field` names the offending field.',
  401: 'No bearer token, or one that is invalid, expired or revoked.',
  403: `The token lacks scope ${ADMIN_SCOPE}.`,
  404: 'No such resource.',
  409: 'Conflicts with what exists: the id, username, email or resource identifier is taken, or the change does not fit this kind of client.',
  413: `The body exceeds ${MAX_BODY_BYTES} bytes.`,
  415: 'The body is not application/json.',
  429: 'Too many admin requests from this address or admin client; retry after Retry-After seconds.',
  503: `The database is unavailable; retry later (Retry-After: ${RETRY_AFTER_UNAVAILABLE}).`,
};

type JsonSchema = Record<string, unknown>;

/** `routes` and the route that serves their OpenAPI document at /admin/openapi.json, which it describes too. */
export function withOpenApiDocument(routes: readonly AdminRoute[], issuer: string, tokenPath: string): AdminRoute[] {
  const all: AdminRoute[] = [
    ...routes,
    adminRoute({
      method: 'get',
      path: OPENAPI_PATH,
      summary: 'This document',
      status: 200,
      response: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) }),
      handle: async () => document,
    }),
  ];
  const document = openApiDocument(all, issuer, tokenPath);
  return all;
}

/** The OpenAPI 3.1 document of `routes`, served from `issuer`, whose admin tokens come from `tokenPath`. */
export function openApiDocument(routes: readonly AdminRoute[], issuer: string, tokenPath: string) {
  const input = components(COMPONENTS.input, 'input');
  const output = components(COMPONENTS.output, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/admin${route.path.replace(/:(\w+)/g, '{$1}')}`;
    const item = (paths[path] ??= {});
    if (item[route.method]) throw new Error(`the admin API declares ${route.method.toUpperCase()} ${path} twice`);
    item[route.method] = operation(route, input, output);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'Tollgate admin API',
      version: (createRequire(PROJECT_ROOT)('./package.json') as { version: string }).version,
      description: `Clients, users, resource servers and the audit trail. Every route needs an access token with scope ${ADMIN_SCOPE}; answers are JSON and never cached.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: issuer }],
    security: [{ adminToken: [ADMIN_SCOPE] }],
    paths,
    components: {
      schemas: { ...input.schemas, ...output.schemas },
      securitySchemes: {
        adminToken: {
          type: 'oauth2',
          description: `A Bearer access token (RFC 6750) from the client_credentials grant at ${tokenPath}, by a client allowed scope ${ADMIN_SCOPE}.`,
          flows: { clientCredentials: { tokenUrl: `${issuer.replace(/\/$/, '')}${tokenPath}`, scopes: { [ADMIN_SCOPE]: 'the admin API' } } },
        },
      },
    },
  };
}

interface Components {
  schemas: Record<string, JsonSchema>;
  /** A schema as the document shows it: a reference to its component, or inlined. */
  ref(schema: z.ZodType): JsonSchema;
}

function components(named: Record<string, z.ZodType>, io: 'input' | 'output'): Components {
  const registry = z.registry<{ id: string }>();
  const names = new Map<z.ZodType, string>();
  for (const [id, schema] of Object.entries(named)) {
    registry.add(schema, { id });
    names.set(schema, id);
  }
  const { schemas } = z.toJSONSchema(registry, { io, target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, JsonSchema>;
  };
  return {
    schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, bare(schema)])),
    ref: (schema) =>
      names.has(schema) ? { $ref: `#/components/schemas/${names.get(schema)}` } : bare(z.toJSONSchema(schema, { io, target: 'draft-2020-12' })),
  };
}

/** The document names its dialect once; a component's $id would move its references' base. */
function bare({ $schema: _dialect, $id: _id, ...schema }: JsonSchema): JsonSchema {
  return schema;
}

function operation(route: AdminRoute, input: Components, output: Components) {
  const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
  const failure = (status: number) => [String(status), { description: FAILURES[status], content: json(output.ref(errorBodySchema)) }];
  const failures = [...(route.body || route.query ? [400] : []), 401, 403, ...(route.errors ?? []), ...(route.body ? [413, 415] : []), 429, 503].sort(
    (a, b) => a - b,
  );
  const parameters = [...pathParameters(route.path), ...(route.query ? queryParameters(input.ref(route.query)) : [])];
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(parameters.length ? { parameters } : {}),
    // parseInput reads a missing body as {}: the body is optional when {} is valid.
    ...(route.body ? { requestBody: { required: !route.body.safeParse({}).success, content: json(input.ref(route.body)) } } : {}),
    responses: {
      [route.status]: {
        description: route.status === 204 ? 'Done; no body.' : 'Done.',
        ...(route.status === 201 ? { headers: { Location: { description: 'Where the new resource is.', schema: { type: 'string' } } } } : {}),
        ...(route.response ? { content: json(output.ref(route.response)) } : {}),
      },
      ...Object.fromEntries(failures.map(failure)),
    },
  };
}

/** e.g. `get /clients/:id/secret` → `getClientsIdSecret`, unique as (method, path) is. */
function operationId({ method, path }: AdminRoute): string {
  return (
    method +
    path
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map((word) => word[0]!.toUpperCase() + word.slice(1))
      .join('')
  );
}

function pathParameters(path: string) {
  return [...path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
}

/** A query schema (an object) as one parameter per property. */
function queryParameters(schema: JsonSchema) {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, { description, ...property }]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(typeof description === 'string' ? { description } : {}),
    schema: property,
  }));
}
