/**
 * The CDK app: `npx cdk deploy --all` deploys Sluice into the account and
 * region of the caller's credentials. Context (`-c key=value` or cdk.json):
 * - `stage`: name of this deployment (resource names, stack names). @default 'dev'
 * - `alertEmail`: subscribed to the alarm topic (every alarm). @default none
 * - `retainData`: keep the lake and state table on `cdk destroy`. @default true
 * - `ingestShards`: the push stream's shards; 0 makes it on-demand. @default 0
 * - `pushBatchSize`, `pushBatchWindowSeconds`: the consumer's batching. @default 500, 10
 * - `compactionRateHours`, `compactionTargetBytes`: the push tables' compaction. @default 24, 134217728
 */
import { App, Duration, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SluiceDataStack } from './stacks/data-stack.js';
import { SluiceServiceStack } from './stacks/service-stack.js';

const app = new App();
const stageName = String(app.node.tryGetContext('stage') ?? 'dev');
const alertEmail = app.node.tryGetContext('alertEmail') as string | undefined;
const retainData = String(app.node.tryGetContext('retainData') ?? 'true') !== 'false';
const ingestShards = Number(app.node.tryGetContext('ingestShards') ?? 0);
const pushBatchSize = app.node.tryGetContext('pushBatchSize') as string | number | undefined;
const pushBatchWindow = app.node.tryGetContext('pushBatchWindowSeconds') as string | number | undefined;
const compactionRate = app.node.tryGetContext('compactionRateHours') as string | number | undefined;
const compactionTarget = app.node.tryGetContext('compactionTargetBytes') as string | number | undefined;
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

const data = new SluiceDataStack(app, `Sluice-${stageName}-Data`, { env, stageName, retainData });
const service = new SluiceServiceStack(app, `Sluice-${stageName}-Service`, {
  env,
  stageName,
  ...(alertEmail ? { alertEmail } : {}),
  ingest: {
    shards: ingestShards,
    ...(pushBatchSize === undefined ? {} : { batchSize: Number(pushBatchSize) }),
    ...(pushBatchWindow === undefined ? {} : { batchingWindow: Duration.seconds(Number(pushBatchWindow)) }),
  },
  compaction: {
    ...(compactionRate === undefined ? {} : { rate: Duration.hours(Number(compactionRate)) }),
    ...(compactionTarget === undefined ? {} : { targetFileBytes: Number(compactionTarget) }),
  },
});
// The service finds the data stack's resources by name: deploy data first.
service.addStackDependency(data);
Tags.of(app).add('sluice:stage', stageName);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
