import { Aws, type CfnElement, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { STAGES } from '../../engine/stages/declarations.js';
import { CompactionSchedule, type CompactionScheduleSettings } from '../constructs/compaction-schedule.js';
import { IngestStream } from '../constructs/ingest-stream.js';
import { MaintenanceSchedule } from '../constructs/maintenance-schedule.js';
import { Monitoring, Severity } from '../constructs/monitoring.js';
import { SluiceApi } from '../constructs/sluice-api.js';
import { SluiceFunction } from '../constructs/sluice-function.js';
import { StreamConsumer } from '../constructs/stream-consumer.js';
import { SyncOrchestration } from '../constructs/sync-orchestration.js';
import { sluiceNames } from '../names.js';

export interface SluiceServiceStackProps extends StackProps {
  /** The stage name, part of resource names (secret prefix, schedule group). */
  readonly stageName: string;
  /**
   * Who is e-mailed when an alarm goes off (or back to OK).
   * @default no subscription (the topic is still created)
   */
  readonly alertEmail?: string;
  /** Push ingestion: the stream's shards (0 = on-demand) and the consumer's batching. */
  readonly ingest?: {
    readonly shards?: number;
    readonly batchSize?: number;
    readonly batchingWindow?: Duration;
  };
  /** The compaction of push tables' small files: schedule rate, target file size, grace period. */
  readonly compaction?: CompactionScheduleSettings;
}

/**
 * The service: the sync and stages Lambdas, the sync state machine with its
 * Scheduler group, the HTTP API, push ingestion (stream, consumer, DLQ), the
 * monitor with its alarms and dashboard, the maintenance and compaction
 * schedules, and the alarm topic. Each function's grants are on Sluice's own
 * resources of this stage.
 */
export class SluiceServiceStack extends Stack {
  public readonly api: SluiceApi;
  public readonly orchestration: SyncOrchestration;
  public readonly syncFunction: SluiceFunction;
  public readonly stagesFunction: SluiceFunction;
  public readonly stageName: string;
  public readonly consumer: StreamConsumer;
  public readonly monitoring: Monitoring;
  public readonly compaction: CompactionSchedule;

  public constructor(scope: Construct, id: string, props: SluiceServiceStackProps) {
    super(scope, id, props);
    const { stageName } = props;
    this.stageName = stageName;
    // The data stack's resources, found by name (see infra/names.ts).
    const names = sluiceNames(stageName);
    const bucket = s3.Bucket.fromBucketName(this, 'Lake', names.bucket);
    const table = dynamodb.Table.fromTableAttributes(this, 'State', {
      tableName: names.table,
      globalIndexes: ['gsi1', 'gsi2'],
    });
    const secretsPrefix = names.secretsPrefix;
    const scheduleGroupName = names.scheduleGroup;
    const backendEnv = {
      SLUICE_STAGE: stageName,
      SLUICE_BUCKET: names.bucket,
      SLUICE_TABLE: names.table,
      SLUICE_GLUE_DATABASE: names.database,
      SLUICE_ATHENA_WORKGROUP: names.workgroup,
      SLUICE_SECRETS_PREFIX: secretsPrefix,
    };

    // Every alarm's name starts with it: the stack's (Monitoring, CompactionSchedule) and the API's freshness alarms.
    const alarmPrefix = `sluice-${stageName}-`;
    const alarms = new sns.Topic(this, 'Alarms', {
      displayName: `Sluice ${stageName} alarms`,
      enforceSSL: true,
    });
    // enforceSSL makes a topic policy, and a topic policy replaces SNS's default one: without this
    // statement no alarm could publish. Only this account's alarms of this stage (`<prefix><severity>-…`).
    alarms.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [alarms.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': Object.values(Severity).map(
              (severity) =>
                `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${alarmPrefix}${severity}-*`,
            ),
          },
        },
      }),
    );
    if (props.alertEmail) alarms.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));

    this.syncFunction = new SluiceFunction(this, 'Sync', {
      entry: 'functions/sync/index.ts',
      description: 'Sluice sync steps: begin, slice, finish, fail',
      serviceName: 'sluice-sync',
      environment: backendEnv,
      parquet: true,
      timeout: Duration.minutes(15),
    });
    this.stagesFunction = new SluiceFunction(this, 'Stages', {
      entry: 'functions/stages/index.ts',
      description: 'Sluice stages (catalog, quality, merge, models) and maintenance, through Athena',
      serviceName: 'sluice-stages',
      environment: backendEnv,
      // The quality stage lands its results as Parquet (the quality table).
      parquet: true,
      memorySize: 1024,
      // Athena's MERGE and OPTIMIZE wait for the query; the function only polls.
      timeout: Duration.minutes(15),
    });
    const sync = this.syncFunction.function;
    const stages = this.stagesFunction.function;

    this.orchestration = new SyncOrchestration(this, 'Orchestration', {
      syncFunction: sync,
      stagesFunction: stages,
      stages: STAGES,
      scheduleGroupName,
    });

    this.api = new SluiceApi(this, 'Api', {
      environment: {
        ...backendEnv,
        SLUICE_STATE_MACHINE_ARN: this.orchestration.stateMachine.stateMachineArn,
        SLUICE_SCHEDULER_GROUP: scheduleGroupName,
        SLUICE_SCHEDULER_ROLE_ARN: this.orchestration.schedulerRole.roleArn,
      },
    });
    const api = this.api.handler.function;

    // ---- push ingestion and observability (infra/constructs/{ingest-stream,stream-consumer,monitoring}.ts) ----
    const ingest = new IngestStream(this, 'Ingest', { shards: props.ingest?.shards ?? 0 });
    this.consumer = new StreamConsumer(this, 'Consumer', {
      stream: ingest.stream,
      deadLetters: ingest.deadLetters,
      environment: backendEnv,
      ...(props.ingest?.batchSize === undefined ? {} : { batchSize: props.ingest.batchSize }),
      ...(props.ingest?.batchingWindow === undefined ? {} : { batchingWindow: props.ingest.batchingWindow }),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      alarmPrefix,
      topic: alarms,
      environment: backendEnv,
      stateMachine: this.orchestration.stateMachine,
      deadLetters: ingest.deadLetters,
      stream: ingest.stream,
      consumer: this.consumer.handler.function,
      functions: [
        { name: 'api', function: api, severity: 'P1' },
        { name: 'sync', function: sync, severity: 'P2' },
        { name: 'stages', function: stages, severity: 'P2' },
        { name: 'stream', function: this.consumer.handler.function, severity: 'P2' },
      ],
    });
    // ---- maintenance of the current tables (infra/constructs/maintenance-schedule.ts) ----
    new MaintenanceSchedule(this, 'Maintenance', { stagesFunction: stages });

    const consumer = this.consumer.handler.function;
    const monitor = this.monitoring.monitor.function;
    api.addEnvironment('SLUICE_INGEST_STREAM', ingest.stream.streamName);
    api.addEnvironment('SLUICE_ALARM_TOPIC_ARN', alarms.topicArn);
    api.addEnvironment('SLUICE_ALARM_PREFIX', alarmPrefix);
    ingest.stream.grant(api, 'kinesis:PutRecords', 'kinesis:DescribeStreamSummary');
    api.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
        resources: [
          `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:${alarmPrefix}P2-freshness-*`,
        ],
      }),
    );

    // ---- grants: each function gets the actions of its adapters, on Sluice's resources only ----
    const arn = (service: string, resource: string) =>
      `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const glueResources = [
      arn('glue', 'catalog'),
      arn('glue', `database/${names.database}`),
      arn('glue', `table/${names.database}/*`),
    ];
    const secrets = arn('secretsmanager', `secret:${secretsPrefix}*`);
    // What GlueCatalog.getTable and putTable call: a commit (or one rolled forward) creates or evolves its table.
    const tableCommits = ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'];
    // Athena's DDL (CTAS, DROP TABLE, Iceberg tables) acts with the caller's rights on the whole database.
    const glueWrite = new iam.PolicyStatement({
      actions: [...tableCommits, 'glue:GetDatabase', 'glue:GetTables', 'glue:DeleteTable'],
      resources: glueResources,
    });

    // Sync: lands files (S3), cursors, runs and leases (DynamoDB), tables (Glue), reads its secrets.
    bucket.grantReadWrite(sync);
    table.grantReadWriteData(sync);
    sync.addToRolePolicy(new iam.PolicyStatement({ actions: tableCommits, resources: glueResources }));
    sync.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secrets],
      }),
    );

    // Stages: runs, watermarks and leases (DynamoDB); the lake (current tables, lineage, the quality
    // table, models, Athena results); Glue tables (quality table, Iceberg current tables and models);
    // Athena queries in Sluice's workgroup; the sources' secrets (their streams are resolved from config).
    bucket.grantReadWrite(stages);
    table.grantReadWriteData(stages);
    stages.addToRolePolicy(glueWrite);
    stages.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'],
        resources: glueResources,
      }),
    );
    stages.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        resources: [arn('athena', `workgroup/${names.workgroup}`)],
      }),
    );
    stages.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secrets],
      }),
    );

    // API: sources and runs, secrets, reset (its recovery may roll a commit forward: S3 and Glue),
    // starting syncs, and the sources' schedules (passing the role schedules assume).
    bucket.grantReadWrite(api);
    table.grantReadWriteData(api);
    // GetTables: the lineage route lists the raw tables.
    api.addToRolePolicy(
      new iam.PolicyStatement({ actions: [...tableCommits, 'glue:GetTables'], resources: glueResources }),
    );
    api.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:GetSecretValue',
          'secretsmanager:DescribeSecret',
          'secretsmanager:DeleteSecret',
          'secretsmanager:RestoreSecret',
          'secretsmanager:TagResource',
        ],
        resources: [secrets],
      }),
    );
    this.orchestration.stateMachine.grantStartExecution(api);
    api.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
        ],
        resources: [arn('scheduler', `schedule/${scheduleGroupName}/*`)],
      }),
    );
    if (api.role) this.orchestration.schedulerRole.grantPassRole(api.role);

    // Consumer: lands push batches (S3, DynamoDB, Glue). Monitor: rolls stuck commits forward (the same).
    // Both publish manifests, whose putTable may create or evolve a table (GlueCatalog); neither lists nor deletes.
    const glueTables = new iam.PolicyStatement({
      actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
      resources: glueResources,
    });
    for (const fn of [consumer, monitor]) {
      bucket.grantReadWrite(fn);
      table.grantReadWriteData(fn);
      fn.addToRolePolicy(glueTables);
    }
    // The consumer masks a source's `pii` fields with the source's salt, kept under the secret prefix.
    consumer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secrets] }),
    );

    // ---- compaction of push tables (infra/constructs/compaction-schedule.ts, docs/push.md "Compaction") ----
    this.compaction = new CompactionSchedule(this, 'Compaction', {
      ...props.compaction,
      environment: backendEnv,
      bucket,
      table,
      glueResources,
      alarmTopic: alarms,
      alarmPrefix,
    });
    // Push tables have registered partitions: the consumer registers a day's, readers (stages' Athena queries) list them.
    consumer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetPartition', 'glue:CreatePartition'],
        resources: glueResources,
      }),
    );
    stages.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetPartition', 'glue:GetPartitions'],
        resources: glueResources,
      }),
    );

    this.acknowledgeNag([
      this.compaction.handler,
      this.syncFunction,
      this.stagesFunction,
      this.api.handler,
      this.consumer.handler,
      this.monitoring.monitor,
    ]);
    Validations.of(ingest).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter destination itself; it needs no DLQ of its own.',
    });
    new CfnOutput(this, 'IngestStreamName', { value: ingest.stream.streamName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: ingest.deadLetters.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.api.apiEndpoint,
      description: 'The HTTP API (IAM auth: sign requests with SigV4)',
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.orchestration.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ScheduleGroupName', { value: scheduleGroupName });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topicArn });
  }

  /** cdk-nag findings that are deliberate here, each with its reason. */
  private acknowledgeNag(functions: readonly Construct[]): void {
    const names = sluiceNames(this.stageName);
    const arn = (service: string, resource: string) =>
      `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const wildcard = (finding: string) => `AwsSolutions-IAM5[${finding}]`;
    const resource = (value: string) => `Resource::${nagText(this.resolve(value))}`;
    const runtimeNamed = [
      // Objects are keyed per source, stream, run and file (engine/layout.ts); S3 grants come as prefixes.
      ...['Abort*', 'DeleteObject*', 'GetBucket*', 'GetObject*', 'List*'].map((a) => `Action::s3:${a}`),
      resource(s3.Bucket.fromBucketName(this, 'LakeRef', names.bucket).arnForObjects('*')),
      resource(`${dynamodb.Table.fromTableName(this, 'StateRef', names.table).tableArn}/index/*`),
      resource(arn('glue', `table/${names.database}/*`)),
      resource(arn('secretsmanager', `secret:${names.secretsPrefix}*`)),
      resource(arn('scheduler', `schedule/${names.scheduleGroup}/*`)),
      // Sources' freshness alarms are made per source by the API.
      resource(arn('cloudwatch', `alarm:sluice-${names.stage}-P2-freshness-*`)),
      // X-Ray's PutTraceSegments and PutTelemetryRecords take no resource.
      'Resource::*',
    ];
    for (const fn of functions) {
      Validations.of(fn).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'AWSLambdaBasicExecutionRole only lets the function write its own log streams.',
        },
        ...runtimeNamed.map((finding) => ({
          id: wildcard(finding),
          reason:
            'Objects, Glue tables, secrets and schedules are created at run time per source and stream; ' +
            "each wildcard is scoped to this stage's bucket, table indexes, database, secret prefix or schedule group.",
        })),
        {
          id: 'AwsSolutions-L1',
          reason: 'Pinned to nodejs22.x, the runtime the bundle is built and tested for.',
        },
      );
    }
    Validations.of(this.orchestration).acknowledge(
      ...[this.syncFunction, this.stagesFunction].map((fn) => ({
        id: wildcard(`Resource::<${this.getLogicalId(fn.function.node.defaultChild as CfnElement)}.Arn>:*`),
        reason: 'Step Functions may invoke any version of the sync and stages functions (CDK grants `:*`).',
      })),
      { id: wildcard('Resource::*'), reason: "X-Ray's PutTraceSegments and log delivery take no resource." },
    );
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm messages carry no data; an AWS-managed SNS key would stop CloudWatch from publishing.',
    });
  }
}

/** A resolved CloudFormation value as cdk-nag writes it in a finding: `{Ref: X}` → `<X>`, GetAtt → `<Id.Attr>`. */
function nagText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (Array.isArray(node['Fn::Join'])) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(nagText).join(separator);
  }
  if (typeof node.Ref === 'string') return `<${node.Ref}>`;
  if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  throw new Error(`cannot render ${JSON.stringify(value)} as a cdk-nag finding`);
}
