// @ts-nocheck
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { StateTableSchema } from '../../adapters/aws/dynamodb-state-store.js';

export interface StateTableProps {
  /**
   * The table's name.
   * @default a name CloudFormation generates
   */
  readonly tableName?: string;
  /**
   * Keep the table when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
}

/**
 * Sources, cursors, runs and leases (docs/dynamodb-table-design.md). Keys,
 * GSIs and the TTL attribute come from the adapter's `StateTableSchema`, so
 * the table and the code that reads it cannot drift apart. Point-in-time
 * recovery: cursors are the exactly-once state, losing them re-lands data.
 */
export class StateTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const S = StateTableSchema;
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      ...(props.tableName === undefined ? {} : { tableName: props.tableName }),
      partitionKey: string(S.partitionKey),
      sortKey: string(S.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: S.ttlAttribute,
      deletionProtection: props.retain ?? true,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const gsi of [S.gsi1, S.gsi2, S.gsi3]) {
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.indexName,
        partitionKey: string(gsi.partitionKey),
        sortKey: string(gsi.sortKey),
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...S.projectedAttributes],
      });
    }
  }
}
