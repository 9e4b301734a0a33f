/**
 * Starts syncs as executions of the sync state machine. The execution is
 * named after the source and run id (unique, and readable in the console);
 * the input carries both, so every step knows the run.
 */
// @ts-nocheck

import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConflictError } from '../../engine/errors.js';
import { AwsService, clientConfig } from './config.js';

export interface StepFunctionsSyncTriggerOptions {
  readonly stateMachineArn: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: SFNClient;
}

/** Execution names allow 80 characters; a run id is 27. */
const SOURCE_PART = 50;

export class StepFunctionsSyncTrigger {
  public readonly client: SFNClient;
  private readonly stateMachineArn: string;

  public constructor(options: StepFunctionsSyncTriggerOptions) {
    this.stateMachineArn = options.stateMachineArn;
    this.client = options.client ?? new SFNClient(clientConfig(AwsService.sfn));
  }

  public async start(
    source: string,
    runId: string,
    streams?: readonly string[],
  ): Promise<{ runId: string; executionArn: string }> {
    try {
      const started = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: `${source.slice(0, SOURCE_PART)}-${runId}`,
          input: JSON.stringify({ source, runId, ...(streams ? { streams } : {}) }),
        }),
      );
      return { runId, executionArn: started.executionArn ?? '' };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) {
        throw new ConflictError(`run ${runId} of source "${source}" was started already`, { cause: error });
      }
      throw error;
    }
  }
}
