// @ts-nocheck
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../../../functions/api/http.js';
import { toApiRequest } from '../../../../functions/api/index.js';

describe('toApiRequest', () => {
  it('decodes a base64 body and lowercases header names', () => {
    // Prepare
    const event = {
      rawPath: '/sources',
      headers: { 'Idempotency-Key': 'abc' },
      queryStringParameters: { limit: '5' },
      requestContext: { http: { method: 'POST' }, requestId: 'api-1' },
      body: Buffer.from('{"name":"shop"}').toString('base64'),
      isBase64Encoded: true,
    } as unknown as APIGatewayProxyEventV2;

    // Act
    const request = toApiRequest(event, { awsRequestId: 'lambda-1' });

    // Assess
    expect(request).toEqual({
      method: 'POST',
      path: '/sources',
      query: { limit: '5' },
      headers: { 'idempotency-key': 'abc' },
      body: '{"name":"shop"}',
      requestId: 'api-1',
    });
  });
});

describe('errorResponse', () => {
  it('shows no detail of an unexpected error', () => {
    // Act
    const { response, exposed } = errorResponse(new Error('password=hunter2 in a stack'), 'r-1');

    // Assess
    expect(exposed).toBe(false);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'InternalError', message: expect.any(String), requestId: 'r-1' },
    });
  });
});
