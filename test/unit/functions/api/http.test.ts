/** The API's one error body: what is shown to the caller and what stays in the log. */
import { describe, expect, it } from 'vitest';
import { EventSinkError } from '../../../../adapters/aws/kinesis-events.js';
import { ConfigError } from '../../../../connectors/sdk/errors.js';
import { ValidationError } from '../../../../engine/errors.js';
import { PushUnavailableError } from '../../../../functions/api/events.js';
import { errorResponse } from '../../../../functions/api/http.js';

const bodyOf = (error: unknown) => {
  const { response, exposed } = errorResponse(error, 'req-1');
  return { status: response.statusCode, exposed, error: JSON.parse(response.body).error };
};

describe('errorResponse', () => {
  it('shows the 501 and 503 our own errors declare, with their message', () => {
    // Act
    const push = bodyOf(new PushUnavailableError());
    const sink = bodyOf(
      new EventSinkError(
        'the ingest stream refused 2 of 5 records (ProvisionedThroughputExceededException); retry the push',
      ),
    );

    // Assess
    expect(push).toMatchObject({ status: 501, exposed: true, error: { code: 'PushUnavailableError' } });
    expect(sink).toMatchObject({ status: 503, exposed: true, error: { code: 'EventSinkError' } });
    expect(sink.error.message).toContain('retry the push');
  });

  it('hides anything else behind a generic 500', () => {
    // Act
    const reply = bodyOf(new Error('connect ECONNREFUSED 10.0.0.7:5432 (internal host)'));

    // Assess
    expect(reply).toMatchObject({ status: 500, exposed: false, error: { code: 'InternalError' } });
    expect(JSON.stringify(reply.error)).not.toContain('10.0.0.7');
  });

  it('names the config field a connector’s check refused, and "config" for anything else on it', () => {
    // Act
    const inner = bodyOf(
      new ValidationError('"rows" must be a number', {
        field: 'config',
        cause: new ConfigError('"rows" must be a number'),
      }),
    );
    const outer = bodyOf(new ValidationError('"config" must be an object', { field: 'config' }));

    // Assess
    expect(inner.error.field).toBe('config.rows');
    expect(outer.error.field).toBe('config');
  });
});
