/**
 * The Athena DDL of a raw table, derived from exactly what the Glue catalog
 * adapter stores for it (GlueCatalog.tableInput: columns with the metadata
 * columns, `dt` partition key, partition projection parameters), so the
 * Trino tier reads the lake through the same table definition Athena would.
 */
// @ts-nocheck

import { GlueClient } from '@aws-sdk/client-glue';
import type { TableDefinition } from '../../engine/ports.js';
import { GlueCatalog } from '../aws/glue-catalog.js';

const PROJECTION_KEYS = /^(projection\.|storage\.location\.template$)/;

export function rawTableDdl(table: TableDefinition, locationOf: (key: string) => string): string {
  const glue = new GlueCatalog({
    database: 'unused',
    locationOf,
    // tableInput never calls Glue; the client only satisfies the constructor.
    client: new GlueClient({ region: 'us-east-1' }),
  });
  const input = glue.tableInput(table);
  const sd = input.StorageDescriptor!;
  const col = (c: { Name?: string; Type?: string }) => `\`${c.Name}\` ${c.Type}`;
  const props = Object.entries(input.Parameters ?? {})
    .filter(([k]) => PROJECTION_KEYS.test(k))
    .map(([k, v]) => `'${k}'='${v.replaceAll("'", "''")}'`);
  return (
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${input.Name}\` (${(sd.Columns ?? []).map(col).join(', ')}) ` +
    `PARTITIONED BY (${(input.PartitionKeys ?? []).map(col).join(', ')}) STORED AS PARQUET ` +
    `LOCATION '${sd.Location}' TBLPROPERTIES (${props.join(', ')})`
  );
}
