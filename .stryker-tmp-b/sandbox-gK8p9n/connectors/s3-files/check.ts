// @ts-nocheck
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CheckResult } from '../sdk/types.js';
import { createClient, listObjects, toConnectorError } from './client.js';
import { type ResolvedConfig, type ResolvedStream, resolveConfig, type S3FilesConfig } from './config.js';

/** `check`'s answer; `warnings` (only when there are some) say what works but looks wrong. */
export type S3FilesCheckResult = CheckResult & { readonly warnings?: readonly string[] };

/** Keys `check` looks through per glob before it gives up looking for a match. */
const CHECK_KEY_LIMIT = 10_000;

/**
 * Lists the prefix (bucket exists, credentials may list it), then looks for
 * one file per stream glob and reads its metadata (credentials may read
 * objects). A glob that matches nothing yet is fine (files may arrive
 * later) but is reported as a warning.
 */
export async function checkS3Files(input: S3FilesConfig, signal?: AbortSignal): Promise<S3FilesCheckResult> {
  let config: ResolvedConfig;
  try {
    config = resolveConfig(input);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const client = createClient(config);
  const options = signal ? { abortSignal: signal } : {};
  let doing = `listing s3://${config.bucket}/${config.prefix}`;
  try {
    await client.send(
      new ListObjectsV2Command({ Bucket: config.bucket, Prefix: config.prefix, MaxKeys: 1 }),
      options,
    );
    const warnings: string[] = [];
    for (const stream of config.streams) {
      const listPrefix = config.prefix + stream.glob.literalPrefix;
      doing = `listing s3://${config.bucket}/${listPrefix}`;
      const match = await firstMatch(client, config, stream, listPrefix, signal);
      if (match === undefined) {
        warnings.push(
          `No file under s3://${config.bucket}/${listPrefix} matches the glob "${stream.glob.pattern}" of stream "${stream.name}" yet; check "prefix" and "glob" if files should be there.`,
        );
        continue;
      }
      doing = `reading s3://${config.bucket}/${match}`;
      await client.send(new HeadObjectCommand({ Bucket: config.bucket, Key: match }), options);
    }
    return warnings.length > 0 ? { ok: true, warnings } : { ok: true };
  } catch (error) {
    return { ok: false, message: toConnectorError(error, doing, config).message };
  } finally {
    client.destroy();
  }
}

async function firstMatch(
  client: ReturnType<typeof createClient>,
  config: ResolvedConfig,
  stream: ResolvedStream,
  listPrefix: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  let seen = 0;
  for await (const page of listObjects(client, config.bucket, listPrefix, signal)) {
    for (const object of page) {
      if (!object.key.endsWith('/') && stream.glob.matches(object.key.slice(config.prefix.length))) {
        return object.key;
      }
    }
    seen += page.length;
    if (seen >= CHECK_KEY_LIMIT) return undefined;
  }
  return undefined;
}
