/**
 * `POST /sources/{name}/events[?stream=<stream>]`: puts a JSON record or an
 * array of records of a push source on the ingest stream. The stream may be
 * omitted when the source declares one. Validated whole before anything is
 * put; answers 202 with the count (landing is asynchronous).
 */
import { pushStreams } from '../../connectors/push/index.js';
import { NotFoundError, SluiceError, ValidationError } from '../../engine/errors.js';
import type { SourceDefinition } from '../../engine/ports.js';
import { envelopesOf, partitionKeyFor } from '../../engine/push-events.js';
import { type ApiRequest, type ApiResponse, json } from './http.js';
import type { ApiDeps } from './ports.js';

export class PushUnavailableError extends SluiceError {
  public override readonly statusCode: number = 501;
  public constructor() {
    super('push ingestion is not configured on this deployment (no ingest stream)');
    this.name = 'PushUnavailableError';
  }
}

export async function pushEvents(deps: ApiDeps, request: ApiRequest, name: string): Promise<ApiResponse> {
  const source: SourceDefinition | undefined = await deps.state.getSource(name);
  if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
  if (source.type !== 'push') {
    throw new ValidationError(`source "${name}" is of type ${source.type}; only push sources take events`, {
      field: 'name',
    });
  }
  const declared = pushStreams(source.config as never).map((s) => s.name);
  const asked = request.query.stream;
  const stream = asked ?? (declared.length === 1 ? declared[0] : undefined);
  if (stream === undefined) {
    throw new ValidationError(
      `source "${name}" has several streams; name one: ?stream=${declared.join('|')}`,
      {
        field: 'stream',
      },
    );
  }
  if (!declared.includes(stream)) {
    throw new ValidationError(
      `stream "${stream}" is not declared by source "${name}" (declared: ${declared.join(', ')})`,
      {
        field: 'stream',
      },
    );
  }
  // The keys the envelopes are put under count against the PutRecords limit: checked with them.
  const keyOf = partitionKeyFor((source.config as { spread?: number }).spread);
  const envelopes = envelopesOf(name, stream, request.body, (deps.clock ?? (() => new Date()))(), keyOf);
  if (!deps.events) throw new PushUnavailableError();
  await deps.events.put(envelopes, keyOf);
  return json(202, { source: name, stream, accepted: envelopes.length });
}
