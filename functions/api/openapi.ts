/**
 * The API's OpenAPI 3.1 document, generated from the same connector config
 * schemas the API validates with, so the two cannot disagree. Served at
 * `GET /openapi.json` and committed as docs/openapi.json
 * (`npx tsx scripts/write-openapi.ts`; a test fails when it is stale).
 */
import type { ConfigProperty } from '../../connectors/sdk/types.js';
import { type ConnectorRegistry, SOURCE_NAME } from '../../engine/sources.js';

type Schema = Record<string, unknown>;

/** A connector config property as JSON Schema 2020-12; secrets are write-only passwords. */
function jsonSchema(property: ConfigProperty): Schema {
  const out: Schema = { type: property.type };
  if (property.description) out.description = property.description;
  if (property.default !== undefined) out.default = property.default;
  if (property.enum) out.enum = property.enum;
  if (property.minimum !== undefined) out.minimum = property.minimum;
  if (property.maximum !== undefined) out.maximum = property.maximum;
  if (property.secret) Object.assign(out, { writeOnly: true, format: 'password' });
  if (property.items) out.items = jsonSchema(property.items);
  if (property.properties) {
    out.properties = Object.fromEntries(
      Object.entries(property.properties).map(([k, v]) => [k, jsonSchema(v)]),
    );
  }
  if (property.required?.length) out.required = property.required;
  if (property.additionalProperties !== undefined) {
    out.additionalProperties =
      typeof property.additionalProperties === 'boolean'
        ? property.additionalProperties
        : jsonSchema(property.additionalProperties);
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: Schema, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});
const ok = (description: string, schema: Schema) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: ERROR_TEXT[s] ?? 'error', content: { 'application/json': { schema: ref('Error') } } },
    ]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request: the body names the field at fault',
  404: 'Not found',
  409: 'Conflict: exists already, or a run of the source is in progress',
  500: 'Internal error (detail in the logs under the request id)',
  501: 'Not configured on this deployment (no ingest stream)',
  503: 'Temporarily unavailable (the ingest stream refused records, or the source did not answer); retry',
};
const page = (item: Schema) => ({
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: item },
    nextToken: {
      type: 'string',
      description: 'Present when more items follow: pass it as `nextToken` for the next page (opaque)',
    },
  },
});
const pageParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
  {
    name: 'nextToken',
    in: 'query',
    schema: { type: 'string' },
    description:
      'The `nextToken` of the previous page: an opaque cursor (the page starts after the last item returned, so items added or deleted meanwhile are neither repeated nor skipped)',
  },
];
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(registry: ConnectorRegistry): Schema {
  const connectors = registry.list();
  const configSchemas = Object.fromEntries(
    connectors.map((c) => [`${c.type}Config`, jsonSchema(c.configSchema as ConfigProperty)]),
  );
  const sourceFields: Schema = {
    streams: { type: 'array', items: { type: 'string' }, description: 'Streams to sync; all when absent' },
    schedule: {
      type: 'string',
      pattern: '^(rate|cron)\\(.+\\)$',
      description: 'EventBridge Scheduler expression: rate(1 hour) or cron(0 6 * * ? *)',
    },
    timezone: { type: 'string', default: 'UTC', description: 'IANA zone for cron schedules' },
    paused: { type: 'boolean', default: false, description: 'Keeps the schedule, disabled' },
    slaMinutes: { type: 'number', exclusiveMinimum: 0, description: 'Freshness SLA in minutes' },
    sla: {
      type: 'object',
      additionalProperties: false,
      properties: {
        freshness: { type: 'string', description: 'ISO-8601 duration, e.g. PT2H (stored as slaMinutes)' },
      },
    },
    quality: {
      type: 'object',
      description:
        'Checks per stream, run after each sync (docs/transforms.md): not_null, unique, accepted_values, range, regex, freshness, volume; severity error (the default) or warn',
      additionalProperties: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type'],
          properties: {
            type: {
              enum: ['not_null', 'unique', 'accepted_values', 'range', 'regex', 'freshness', 'volume'],
            },
            severity: { enum: ['error', 'warn'], default: 'error' },
          },
        },
      },
    },
    pii: {
      type: 'object',
      description: 'Fields masked at landing, per stream: hash (salted HMAC-SHA-256) or redact (null)',
      additionalProperties: {
        type: 'object',
        additionalProperties: { enum: ['hash', 'redact'] },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice API',
      version: '1',
      description:
        'Sources, syncs and runs. IAM-authorised on AWS (sign requests with SigV4); unauthenticated on localhost (`sluice serve`). Every error has the body `Error`.',
    },
    security: [{ sigv4: [] }],
    paths: {
      '/sources': {
        get: {
          operationId: 'listSources',
          parameters: pageParams,
          responses: { 200: ok('Sources by name', page(ref('Source'))), ...errors(400) },
        },
        post: {
          operationId: 'createSource',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
              description: 'Client token: a retried create with the same token returns the source it created',
            },
          ],
          requestBody: body(ref('SourceCreate')),
          responses: {
            201: ok('Created', ref('Source')),
            200: ok('Created earlier with this client token', ref('Source')),
            ...errors(400, 409),
          },
        },
      },
      '/sources/{name}': {
        parameters: [nameParam],
        get: {
          operationId: 'getSource',
          responses: { 200: ok('The source', ref('Source')), ...errors(404) },
        },
        patch: {
          operationId: 'updateSource',
          requestBody: body(ref('SourcePatch')),
          responses: { 200: ok('Updated', ref('Source')), ...errors(400, 404) },
        },
        delete: {
          operationId: 'deleteSource',
          description:
            'Removes the source, its schedule and its secrets; landed data, cursors and runs stay.',
          responses: { 200: ok('Deleted', { type: 'object' }), ...errors(404, 409) },
        },
      },
      '/sources/{name}/sync': {
        parameters: [nameParam],
        post: {
          operationId: 'syncSource',
          requestBody: body(
            { type: 'object', additionalProperties: false, properties: { streams: sourceFields.streams } },
            false,
          ),
          responses: {
            202: ok('Started', {
              type: 'object',
              required: ['source', 'runId'],
              properties: {
                source: { type: 'string' },
                runId: { type: 'string' },
                executionArn: { type: 'string' },
              },
            }),
            ...errors(400, 404, 503),
          },
        },
      },
      '/sources/{name}/reset': {
        parameters: [nameParam],
        post: {
          operationId: 'resetSource',
          description:
            "Moves the source's (or one stream's) cursor back to its initial value: the next sync backfills.",
          requestBody: body(
            { type: 'object', additionalProperties: false, properties: { stream: { type: 'string' } } },
            false,
          ),
          responses: {
            200: ok('Reset', {
              type: 'object',
              properties: { source: { type: 'string' }, reset: { type: 'array', items: { type: 'string' } } },
            }),
            ...errors(400, 404, 409, 503),
          },
        },
      },
      '/sources/{name}/runs': {
        parameters: [nameParam],
        get: {
          operationId: 'listRuns',
          parameters: pageParams,
          responses: { 200: ok('Newest first', page(ref('Run'))), ...errors(400, 404) },
        },
      },
      '/sources/{name}/runs/{id}': {
        parameters: [nameParam, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          operationId: 'getSourceRun',
          description:
            'One run of the source with per-stream rows, bytes, files and duration, and its estimated cost',
          responses: { 200: ok('The run', ref('Run')), ...errors(400, 404) },
        },
      },
      '/sources/{name}/events': {
        parameters: [nameParam],
        post: {
          operationId: 'pushEvents',
          description:
            'Puts a JSON record or an array of up to 500 records of a push source on the ingest stream (docs/push.md).',
          parameters: [
            {
              name: 'stream',
              in: 'query',
              required: false,
              description: 'The stream; may be omitted when the source declares one.',
              schema: { type: 'string' },
            },
          ],
          requestBody: body({
            oneOf: [
              { type: 'object' },
              { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: 500 },
            ],
          }),
          responses: {
            202: ok('Accepted onto the stream; landing is asynchronous', {
              type: 'object',
              properties: {
                source: { type: 'string' },
                stream: { type: 'string' },
                accepted: { type: 'integer' },
              },
            }),
            ...errors(400, 404, 501, 503),
          },
        },
      },
      '/runs/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          operationId: 'getRun',
          responses: { 200: ok('The run with per-stream counts', ref('Run')), ...errors(400, 404) },
        },
      },
      '/tables/{name}/lineage': {
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          operationId: 'getTableLineage',
          responses: {
            200: ok(
              "Where the table's rows came from: the stages that wrote it, their inputs, back to source runs",
              ref('LineageNode'),
            ),
            ...errors(400, 404),
          },
        },
      },
      '/connectors': {
        get: {
          operationId: 'listConnectors',
          parameters: pageParams,
          responses: {
            200: ok(
              'Connector types with their config schemas',
              page({
                type: 'object',
                properties: {
                  type: { type: 'string' },
                  description: { type: 'string' },
                  configSchema: { type: 'object' },
                  secretFields: { type: 'array', items: { type: 'string' } },
                },
              }),
            ),
          },
        },
      },
      '/connectors/{type}/check': {
        parameters: [
          {
            name: 'type',
            in: 'path',
            required: true,
            schema: { type: 'string', enum: connectors.map((c) => c.type) },
          },
        ],
        post: {
          operationId: 'checkConnection',
          requestBody: body({
            type: 'object',
            additionalProperties: false,
            properties: { config: { type: 'object' } },
          }),
          responses: {
            200: ok('The check result', {
              type: 'object',
              required: ['ok'],
              properties: {
                ok: { type: 'boolean' },
                message: { type: 'string' },
                warnings: { type: 'array', items: { type: 'string' } },
              },
            }),
            ...errors(400, 404),
          },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openApi', responses: { 200: ok('This document', { type: 'object' }) } },
      },
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (execute-api)',
        },
      },
      schemas: {
        ...configSchemas,
        SourceCreate: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'type'],
          properties: {
            name: { type: 'string', pattern: SOURCE_NAME.source },
            type: { type: 'string', enum: connectors.map((c) => c.type) },
            config: { oneOf: connectors.map((c) => ref(`${c.type}Config`)) },
            ...sourceFields,
          },
        },
        SourcePatch: {
          type: 'object',
          additionalProperties: false,
          properties: {
            config: {
              type: 'object',
              description: 'Merged field by field; secrets left out keep their value',
            },
            ...sourceFields,
            // null removes a field, as the route does (routes.ts).
            ...Object.fromEntries(
              ['streams', 'schedule', 'timezone', 'paused', 'slaMinutes', 'sla', 'quality', 'pii'].map(
                (field) => [
                  field,
                  { oneOf: [sourceFields[field], { type: 'null' }], description: `null removes ${field}` },
                ],
              ),
            ),
          },
        },
        Source: {
          type: 'object',
          required: ['name', 'type', 'config', 'secrets', 'createdAt', 'updatedAt'],
          properties: {
            name: { type: 'string' },
            type: { type: 'string' },
            config: { type: 'object', description: 'Without secret fields' },
            secrets: { type: 'object', additionalProperties: { enum: ['set', 'unset'] } },
            ...sourceFields,
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        LineageNode: {
          type: 'object',
          required: ['table', 'records', 'sourceRuns', 'inputs'],
          properties: {
            table: { type: 'string' },
            records: {
              type: 'array',
              description: 'The stage executions that wrote the table; empty for a raw table',
              items: {
                type: 'object',
                required: ['table', 'stage', 'runId', 'at', 'inputs'],
                properties: {
                  table: { type: 'string' },
                  stage: { type: 'string' },
                  runId: { type: 'string' },
                  at: { type: 'string', format: 'date-time' },
                  inputs: { type: 'array', items: { type: 'string' } },
                  files: { type: 'array', items: { type: 'string' } },
                  sourceRuns: { type: 'array', items: { type: 'string' } },
                  path: { type: 'string' },
                },
              },
            },
            sourceRuns: { type: 'array', items: { type: 'string' } },
            inputs: { type: 'array', items: { $ref: '#/components/schemas/LineageNode' } },
          },
        },
        Run: {
          type: 'object',
          required: ['runId', 'source', 'status', 'startedAt', 'streams'],
          properties: {
            runId: { type: 'string' },
            source: { type: 'string' },
            status: { enum: ['RUNNING', 'SUCCEEDED', 'FAILED', 'QUALITY_FAILED'] },
            startedAt: { type: 'string', format: 'date-time' },
            endedAt: { type: 'string', format: 'date-time' },
            error: { type: 'string' },
            slices: { type: 'integer', description: 'Slices the run published' },
            streams: { type: 'object', additionalProperties: ref('StreamRunStats') },
            cost: ref('RunCost'),
          },
        },
        StreamRunStats: {
          type: 'object',
          required: ['rows', 'bytes', 'files', 'durationMs'],
          properties: {
            rows: { type: 'integer' },
            bytes: { type: 'integer' },
            files: { type: 'integer' },
            durationMs: { type: 'integer' },
            skipped: { type: 'integer', description: 'Re-sent records already landed, dropped' },
            schemaChanges: { type: 'array', items: { type: 'string' } },
            cursorFrom: {},
            cursorTo: {},
            incremental: { type: 'boolean' },
          },
        },
        RunCost: {
          type: 'object',
          description:
            'What the run used and its estimated USD at list price (docs/operations.md#cost-estimate); absent for local runs',
          required: [
            'lambdaMs',
            'memoryMb',
            'requests',
            'stateTransitions',
            'lambdaGbSeconds',
            'usd',
            'pricesAsOf',
          ],
          properties: {
            lambdaMs: { type: 'integer', description: 'Billed Lambda milliseconds' },
            memoryMb: { type: 'integer' },
            requests: { type: 'integer', description: 'Lambda invocations' },
            stateTransitions: { type: 'integer', description: 'Step Functions Standard transitions' },
            architecture: { enum: ['arm64', 'x86_64'] },
            lambdaGbSeconds: { type: 'number' },
            usd: { type: 'number' },
            pricesAsOf: { type: 'string', format: 'date' },
            counted: {
              type: 'array',
              items: { type: 'string' },
              description: 'Latest invocations counted (keeps the count idempotent)',
            },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'requestId'],
              properties: {
                code: {
                  type: 'string',
                  examples: ['ValidationError', 'NotFoundError', 'ConflictError', 'InternalError'],
                },
                message: { type: 'string' },
                field: { type: 'string', description: 'The field at fault, e.g. config.rows' },
                requestId: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}
