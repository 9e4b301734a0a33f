/**
 * Sources' schedules on EventBridge Scheduler: one schedule per source, named
 * after it, in Sluice's schedule group. Its target is the sync state machine,
 * started with `{ "source": "<name>" }` by the role the CDK stack made for
 * schedules; the execution's name then becomes the run id.
 */
// @ts-nocheck

import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { ValidationError } from '../../engine/errors.js';
import { AwsService, clientConfig } from './config.js';

export interface EventBridgeSchedulerOptions {
  /** The schedule group (the stack's `sluice-<stage>`). */
  readonly groupName: string;
  /** The sync state machine schedules start. */
  readonly stateMachineArn: string;
  /** The role schedules assume to start it. */
  readonly roleArn: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: SchedulerClient;
}

export interface ScheduleSettings {
  readonly expression: string;
  readonly timezone: string;
  readonly enabled: boolean;
}

export class EventBridgeScheduler {
  public readonly client: SchedulerClient;
  private readonly options: EventBridgeSchedulerOptions;

  public constructor(options: EventBridgeSchedulerOptions) {
    this.options = options;
    this.client = options.client ?? new SchedulerClient(clientConfig(AwsService.scheduler));
  }

  /** Creates or replaces the source's schedule; a bad expression or zone is a ValidationError on `schedule`. */
  public async put(source: string, spec: ScheduleSettings): Promise<void> {
    const input: CreateScheduleCommandInput = {
      Name: source,
      GroupName: this.options.groupName,
      ScheduleExpression: spec.expression,
      ScheduleExpressionTimezone: spec.timezone,
      State: spec.enabled ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Description: `Sluice: sync source ${source}`,
      Target: {
        Arn: this.options.stateMachineArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({ source }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    };
    try {
      try {
        await this.client.send(new UpdateScheduleCommand(input));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        try {
          await this.client.send(new CreateScheduleCommand(input));
        } catch (raced) {
          // Created meanwhile by a concurrent request: replace it with this one.
          if (!(raced instanceof ConflictException)) throw raced;
          await this.client.send(new UpdateScheduleCommand(input));
        }
      }
    } catch (error) {
      if (error instanceof ValidationException) {
        throw new ValidationError(`the scheduler rejected the schedule: ${error.message}`, {
          field: 'schedule',
          cause: error,
        });
      }
      throw error;
    }
  }

  public async delete(source: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: source, GroupName: this.options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  /** The schedule as stored, or undefined. */
  public async get(source: string): Promise<GetScheduleCommandOutput | undefined> {
    try {
      return await this.client.send(
        new GetScheduleCommand({ Name: source, GroupName: this.options.groupName }),
      );
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }
}
