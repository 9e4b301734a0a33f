import { describe, expect, it } from 'vitest';
import { rawTableDdl } from '../../../../adapters/trino/raw-table.js';
import { TranslationError, translate, trinoType } from '../../../../adapters/trino/translate.js';

const opts = { schema: 'lake' };

describe('translate (Athena → Trino)', () => {
  it('turns an external Parquet table with partition projection into a Hive table with projection properties', () => {
    // Prepare
    const ddl = rawTableDdl(
      {
        source: 'shop',
        stream: 'orders',
        location: 'raw/shop/orders/',
        primaryKey: ['id'],
        writeDisposition: 'merge',
        schemaVersions: [
          {
            version: 1,
            columns: [
              { name: 'id', type: 'int' },
              { name: 'updated_at', type: 'timestamp' },
              { name: 'amount', type: 'decimal(12,2)' },
            ],
            changes: [],
            runId: 'r1',
            createdAt: '2026-11-20T10:00:00.000Z',
          },
        ],
      },
      (key) => `local:///lake/${key}`,
    );

    // Act
    const [sql] = translate(ddl, opts);

    // Assess
    expect(ddl).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS `shop__orders` \(`id` int, /);
    expect(sql).toBe(
      'CREATE TABLE IF NOT EXISTS hive."lake"."shop__orders" (' +
        '"id" integer, "updated_at" timestamp(3), "amount" decimal(12,2), "_sluice_run_id" varchar, ' +
        '"_sluice_extracted_at" timestamp(3), "_sluice_source" varchar, ' +
        `"dt" varchar WITH (partition_projection_type='date', partition_projection_format='yyyy-MM-dd', ` +
        `partition_projection_range=ARRAY['2026-11-19', 'NOW'], partition_projection_interval=1, partition_projection_interval_unit='DAYS')) ` +
        `WITH (external_location='local:///lake/raw/shop/orders/', format='PARQUET', partitioned_by=ARRAY['dt'], ` +
        `partition_projection_enabled=true, partition_projection_location_template='local:///lake/raw/shop/orders/dt=\${dt}/')`,
    );
  });

  it('turns an Iceberg CREATE TABLE with table_type into one in the iceberg catalog', () => {
    // Act
    const [sql] = translate(
      "CREATE TABLE IF NOT EXISTS `shop__orders__current` (`id` int, `at` timestamp, `name` string) LOCATION 's3://b/current/' TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet')",
      opts,
    );

    // Assess
    expect(sql).toBe(
      `CREATE TABLE IF NOT EXISTS iceberg."lake"."shop__orders__current" ("id" integer, "at" timestamp(6), "name" varchar) WITH (location='s3://b/current/', format='PARQUET')`,
    );
  });

  it('splits ADD COLUMNS into one ADD COLUMN per column', () => {
    expect(translate('ALTER TABLE `t` ADD COLUMNS (`a` string, `b` decimal(10, 2))', opts)).toEqual([
      'ALTER TABLE iceberg."lake"."t" ADD COLUMN IF NOT EXISTS "a" varchar',
      'ALTER TABLE iceberg."lake"."t" ADD COLUMN IF NOT EXISTS "b" decimal(10,2)',
    ]);
  });

  it('maps OPTIMIZE … BIN_PACK and VACUUM to Iceberg table procedures', () => {
    expect(translate('OPTIMIZE shop__orders__current REWRITE DATA USING BIN_PACK', opts)).toEqual([
      'ALTER TABLE iceberg."lake"."shop__orders__current" EXECUTE optimize',
    ]);
    expect(translate('VACUUM shop__orders__current', { ...opts, retention: '8d' })).toEqual([
      `ALTER TABLE iceberg."lake"."shop__orders__current" EXECUTE expire_snapshots(retention_threshold => '8d')`,
      `ALTER TABLE iceberg."lake"."shop__orders__current" EXECUTE remove_orphan_files(retention_threshold => '8d')`,
    ]);
  });

  it('turns an Iceberg CTAS with table_type into one in the iceberg catalog, and qualifies DROP and RENAME', () => {
    expect(
      translate(
        `CREATE TABLE "m__next" WITH (table_type = 'ICEBERG', is_external = false, location = 's3://b/models/m/r1/') AS SELECT 1 AS x`,
        opts,
      ),
    ).toEqual([
      `CREATE TABLE iceberg."lake"."m__next" WITH (location = 's3://b/models/m/r1/', format = 'PARQUET') AS SELECT 1 AS x`,
    ]);
    expect(translate('DROP TABLE IF EXISTS `m`', opts)).toEqual(['DROP TABLE IF EXISTS hive."lake"."m"']);
    expect(translate('ALTER TABLE `m__next` RENAME TO `m`', opts)).toEqual([
      'ALTER TABLE iceberg."lake"."m__next" RENAME TO iceberg."lake"."m"',
    ]);
  });

  it('turns CHANGE COLUMN to the same name into SET DATA TYPE, and refuses a rename', () => {
    expect(translate('ALTER TABLE `t` CHANGE COLUMN `amount` `amount` bigint', opts)).toEqual([
      'ALTER TABLE iceberg."lake"."t" ALTER COLUMN "amount" SET DATA TYPE bigint',
    ]);
    expect(() => translate('ALTER TABLE `t` CHANGE `a` `b` bigint', opts)).toThrow(/not a rename/);
  });

  it('refuses double-quoted names in Hive DDL, as Athena does', () => {
    expect(() => translate('ALTER TABLE "m__next" RENAME TO "m"', opts)).toThrow(/backticks/);
    expect(() => translate('DROP TABLE IF EXISTS "m"', opts)).toThrow(/backticks/);
    expect(() => translate('ALTER TABLE "t" ADD COLUMNS (`a` string)', opts)).toThrow(/backticks/);
  });

  it('passes DML through unchanged', () => {
    const merge = 'MERGE INTO "t" t USING (SELECT 1 AS "id") s ON (t."id" = s."id") WHEN MATCHED THEN DELETE';
    expect(translate(`${merge};`, opts)).toEqual([merge]);
  });

  it('refuses Athena DDL it cannot translate, naming it', () => {
    expect(() =>
      translate("CREATE TABLE `x` (`a` string) TBLPROPERTIES ('table_type'='HIVE')", opts),
    ).toThrow(/only Iceberg tables/);
    expect(() => trinoType('map<string,int>', 'hive')).toThrow(TranslationError);
    expect(() =>
      translate("CREATE EXTERNAL TABLE `x` (`a` string) STORED AS ORC LOCATION 's3://b/x/'", opts),
    ).toThrow(/only STORED AS PARQUET/);
  });
});
