/**
 * SecretStore on Secrets Manager. Each connector secret is one secret named
 * `<prefix><name>` (default prefix `sluice/`), e.g. `sluice/shop/api_key@1f2e3d4c`;
 * the reference kept in the state store is the secret's ARN. Values are never
 * logged or put in error messages.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { NotFoundError } from '../../engine/errors.js';
import type { SecretStore } from '../../engine/ports.js';
import { AwsService, clientConfig } from './config.js';

export type { SecretStore } from '../../engine/ports.js';

export interface SecretsManagerSecretStoreOptions {
  /** @default 'sluice/' */
  readonly prefix?: string;
  /** @default a client from the standard AWS variables (see config.ts) */
  readonly client?: SecretsManagerClient;
  /** KMS key for new secrets. @default the account's `aws/secretsmanager` key */
  readonly kmsKeyId?: string;
  /**
   * Days a deleted secret can be restored; 0 deletes at once. A name in its
   * recovery window is restored (then overwritten) by the next `put`.
   * @default 7
   */
  readonly recoveryWindowDays?: number;
  /** Tags put on new secrets (e.g. for IAM conditions on `sluice:managed`). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** Characters Secrets Manager allows in a name: letters, digits and `/_+=.@-`. */
const INVALID_NAME_CHARS = /[^A-Za-z0-9/_+=.@-]/g;

export class SecretsManagerSecretStore implements SecretStore {
  public readonly client: SecretsManagerClient;
  public readonly prefix: string;
  private readonly kmsKeyId: string | undefined;
  private readonly recoveryWindowDays: number;
  private readonly tags: Readonly<Record<string, string>>;

  public constructor(options: SecretsManagerSecretStoreOptions = {}) {
    this.client = options.client ?? new SecretsManagerClient(clientConfig(AwsService.secretsManager));
    this.prefix = options.prefix ?? 'sluice/';
    this.kmsKeyId = options.kmsKeyId;
    this.recoveryWindowDays = options.recoveryWindowDays ?? 7;
    if (this.recoveryWindowDays !== 0 && (this.recoveryWindowDays < 7 || this.recoveryWindowDays > 30)) {
      throw new Error('recoveryWindowDays must be 0 or between 7 and 30 (the Secrets Manager range)');
    }
    this.tags = { 'sluice:managed': 'true', ...options.tags };
  }

  /** The secret name for a store name: prefixed, with characters Secrets Manager rejects replaced by `_`. */
  public secretName(name: string): string {
    return `${this.prefix}${name}`.replace(INVALID_NAME_CHARS, '_');
  }

  /** Creates or overwrites the secret; returns its ARN. */
  public async put(name: string, value: string): Promise<string> {
    const SecretId = this.secretName(name);
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: SecretId,
          SecretString: value,
          ...(this.kmsKeyId === undefined ? {} : { KmsKeyId: this.kmsKeyId }),
          Tags: Object.entries(this.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      if (!created.ARN) throw new Error(`Secrets Manager returned no ARN for ${SecretId}`);
      return created.ARN;
    } catch (error) {
      // Exists, or (on AWS) is scheduled for deletion: overwrite, restoring it first if needed.
      if (!(error instanceof ResourceExistsException || error instanceof InvalidRequestException))
        throw error;
    }
    const described = await this.client.send(new DescribeSecretCommand({ SecretId }));
    if (described.DeletedDate !== undefined) await this.client.send(new RestoreSecretCommand({ SecretId }));
    return this.putValue(SecretId, value);
  }

  public async get(ref: string): Promise<string> {
    try {
      const response = await this.client.send(new GetSecretValueCommand({ SecretId: ref }));
      if (response.SecretString !== undefined) return response.SecretString;
      if (response.SecretBinary !== undefined) return new TextDecoder().decode(response.SecretBinary);
      throw new NotFoundError(`secret ${ref} has no value`, { what: `secret ${ref}` });
    } catch (error) {
      // Missing, or deleted and waiting out its recovery window.
      if (error instanceof ResourceNotFoundException || error instanceof InvalidRequestException) {
        throw new NotFoundError(`secret ${ref} does not exist (or was deleted)`, {
          what: `secret ${ref}`,
          cause: error,
        });
      }
      throw error;
    }
  }

  public async delete(ref: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteSecretCommand({
          SecretId: ref,
          ...(this.recoveryWindowDays === 0
            ? { ForceDeleteWithoutRecovery: true }
            : { RecoveryWindowInDays: this.recoveryWindowDays }),
        }),
      );
    } catch (error) {
      // Gone already, or already scheduled for deletion.
      if (error instanceof ResourceNotFoundException || error instanceof InvalidRequestException) return;
      throw error;
    }
  }

  private async putValue(SecretId: string, value: string): Promise<string> {
    const response = await this.client.send(new PutSecretValueCommand({ SecretId, SecretString: value }));
    if (!response.ARN) throw new Error(`Secrets Manager returned no ARN for ${SecretId}`);
    return response.ARN;
  }
}
