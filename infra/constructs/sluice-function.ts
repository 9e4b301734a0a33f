import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { handlerBundling } from '../bundling.js';
import { ONE_VCPU_MB, parquetFunctionEnvironment } from '../parquet-function-environment.js';

/** The repository root: entries and the lockfile are found from here. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

export interface SluiceFunctionProps {
  /** The handler's source, relative to the repository root, e.g. `functions/api/index.ts`. */
  readonly entry: string;
  /** A short description shown in the console. */
  readonly description: string;
  /** Variables the handler reads (functions/shared/env.ts). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Ship the Parquet encoder worker and `.wasm` (handlers that write Parquet).
   * @default false
   */
  readonly parquet?: boolean;
  /**
   * 1,769 MB is one full vCPU. Up to that a Parquet handler encodes inline
   * (SLUICE_PARQUET_ENCODER=inline): on one vCPU an encoder thread buys no
   * parallelism and costs a second isolate's memory; above it, on the
   * encoder thread. Either way glibc's mmap threshold is fixed at 1 MiB
   * (infra/parquet-function-environment.ts).
   * @default 1769
   */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /**
   * Days the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Value of POWERTOOLS_SERVICE_NAME. */
  readonly serviceName: string;
}

/**
 * A Sluice Lambda handler: Node.js 22 on arm64 (Graviton: cheaper per GB-s),
 * bundled by infra/bundling.ts, X-Ray tracing, its own log group with a
 * retention (instead of the never-expiring default).
 */
export class SluiceFunction extends Construct {
  public readonly function: NodejsFunction;

  public constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const memorySize = props.memorySize ?? ONE_VCPU_MB;
    const parquet = props.parquet === true ? parquetFunctionEnvironment(memorySize) : {};
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: handlerBundling({ parquet: props.parquet ?? false }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
        ...parquet,
        ...props.environment,
      },
    });
  }
}
