/**
 * Where `sluice serve` puts pushed events: straight into the engine
 * (engine/push.ts), with no Kinesis. Each source is one local "shard"
 * whose sequence numbers continue from the shard's high-water mark, so
 * a restarted server keeps counting and nothing is mistaken for a
 * redelivery. Puts are serialised in this process (the mark is read,
 * then extended); the shard lease guards against a second process.
 */
import { pushStreams } from '../../connectors/push/index.js';
import type { Logger } from '../../connectors/sdk/types.js';
import { NotFoundError, ValidationError } from '../../engine/errors.js';
import type { Catalog, ObjectStore, SecretStore, StateStore } from '../../engine/ports.js';
import {
  landPushBatch,
  type PushOptions,
  type PushResult,
  pushSalt,
  rollForwardPush,
  shardMarkStream,
} from '../../engine/push.js';
import type { EventSink, PushEnvelope } from '../../engine/push-events.js';

/** The shard id every locally pushed record carries. */
export const LOCAL_SHARD = 'local';

export interface LocalEventSinkDeps {
  readonly objects: ObjectStore;
  readonly state: StateStore;
  readonly catalog: Catalog;
  /** The pii salt of a source that masks fields. */
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly logger: Logger;
  readonly clock?: () => Date;
  readonly options?: PushOptions;
}

export class LocalEventSink implements EventSink {
  private queue: Promise<unknown> = Promise.resolve();

  public constructor(private readonly deps: LocalEventSinkDeps) {}

  /** Lands the envelopes before it resolves: after a 202 the rows are queryable. */
  public put(envelopes: readonly PushEnvelope[]): Promise<void> {
    const next = this.queue.then(() => this.land(envelopes));
    this.queue = next.catch(() => undefined);
    return next.then(() => undefined);
  }

  private async land(envelopes: readonly PushEnvelope[]): Promise<PushResult[]> {
    const bySource = new Map<string, PushEnvelope[]>();
    for (const e of envelopes) bySource.set(e.source, [...(bySource.get(e.source) ?? []), e]);
    const results: PushResult[] = [];
    for (const [name, items] of bySource) {
      const source = await this.deps.state.getSource(name);
      if (!source) throw new NotFoundError(`source "${name}" does not exist`, { what: `source ${name}` });
      if (source.type !== 'push') {
        throw new ValidationError(`source "${name}" is of type ${source.type}, not push`, {
          field: 'source',
        });
      }
      // A put that crashed after its commit point moves the mark when rolled forward: do it before counting on.
      await rollForwardPush(this.deps, name, { shardId: LOCAL_SHARD });
      const mark = await this.deps.state.getCursor(name, shardMarkStream(LOCAL_SHARD));
      const base = mark.cursor === undefined ? 0n : BigInt(String(mark.cursor.value));
      const piiSalt = await pushSalt(source, this.deps.secrets);
      results.push(
        await landPushBatch(
          this.deps,
          {
            source,
            streams: pushStreams(source.config as never),
            shardId: LOCAL_SHARD,
            records: items.map((e, i) => ({
              stream: e.stream,
              data: e.record as never,
              sequenceNumber: String(base + BigInt(i + 1)),
              arrivedAt: new Date(e.receivedAt),
            })),
            ...(piiSalt === undefined ? {} : { piiSalt }),
          },
          this.deps.options,
        ),
      );
    }
    return results;
  }
}
