/**
 * A small Amazon States Language interpreter for the states the sync state
 * machine uses (Pass with Parameters, Choice with BooleanEquals/IsPresent,
 * Task with Parameters/ResultPath/Retry/Catch, Succeed, Fail), so the
 * definition CDK renders runs with the real handlers in-process.
 *
 * Why not moto's execution mode: moto's Lambda (without Docker) does not run
 * code, so a moto execution of a Task state never reaches a handler. Why not
 * `aws-local-stepfunctions`: its Task states need Node ≥ 22 (the project
 * supports 20). Semantics follow the ASL specification: `.$` keys are paths
 * (`$…` on the state input, `$$…` on the context object), a Retrier's n-th
 * retry waits `min(IntervalSeconds × BackoffRate^(n-1), MaxDelaySeconds)`
 * (FULL jitter: a uniform fraction of it), errors match by name or
 * `States.ALL`, and Catch puts `{Error, Cause}` at its ResultPath.
 */
// @ts-nocheck


export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath?: string | null;
  readonly Next: string;
}

interface State {
  readonly Type: 'Pass' | 'Choice' | 'Task' | 'Succeed' | 'Fail';
  readonly Next?: string;
  readonly End?: boolean;
  readonly Parameters?: Json;
  readonly ResultPath?: string | null;
  readonly Resource?: string;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly Choices?: readonly (Record<string, Json> & { Next: string })[];
  readonly Default?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

export interface StateMachineDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
}

/** A Lambda as the Lambda service runs it: throws `{ name, message }` errors the way a function reports them. */
export type TaskInvoker = (resource: string, payload: Json, attempt: number) => Promise<Json>;

export interface ExecutionEvent {
  readonly state: string;
  readonly type: 'entered' | 'retry' | 'caught' | 'failed';
  readonly error?: string;
  readonly attempt?: number;
  readonly waitMs?: number;
}

export interface Execution {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly history: readonly ExecutionEvent[];
}

export interface ExecuteOptions {
  readonly name: string;
  readonly input: Json;
  readonly invoke: TaskInvoker;
  /** Multiplies every retry wait (tests run the real policy in less time). @default 1 */
  readonly timeScale?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Stops a runaway loop. @default 1000 */
  readonly maxTransitions?: number;
}

export class StatesError extends Error {
  public readonly error: string;
  public readonly cause_: string;
  public constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
    this.error = error;
    this.cause_ = cause;
  }
}

function segments(path: string, root: '$' | '$$'): string[] {
  if (path === root) return [];
  if (!path.startsWith(`${root}.`)) throw new StatesError('States.Runtime', `unsupported path ${path}`);
  return path.slice(root.length + 1).split('.');
}

/** Reads a reference path; an absent field is a `States.Runtime` error, as in Step Functions. */
export function readPath(data: Json, path: string, context: Json): Json {
  const [root, target] = path.startsWith('$$') ? (['$$', context] as const) : (['$', data] as const);
  let current: Json | undefined = target;
  for (const key of segments(path, root)) {
    current =
      current !== null && typeof current === 'object' && !Array.isArray(current) ? current[key] : undefined;
    if (current === undefined) {
      throw new StatesError('States.Runtime', `the path ${path} does not exist in the state input`);
    }
  }
  return current as Json;
}

function isPresent(data: Json, path: string): boolean {
  try {
    readPath(data, path, null);
    return true;
  } catch {
    return false;
  }
}

/** Builds a payload from a Parameters template (`key.$` takes a path). */
function applyParameters(template: Json, data: Json, context: Json): Json {
  if (template === null || typeof template !== 'object') return template;
  if (Array.isArray(template)) return template.map((t) => applyParameters(t, data, context));
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = readPath(data, value as string, context);
    else out[key] = applyParameters(value, data, context);
  }
  return out;
}

/** Places `result` into `data` at a ResultPath (`null`: discard; absent: replace). */
function applyResultPath(data: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return data;
  if (resultPath === undefined || resultPath === '$') return result;
  const keys = segments(resultPath, '$');
  const copy = structuredClone(data) as Record<string, Json>;
  let node = copy;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node[key] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {};
    node = node[key] as Record<string, Json>;
  }
  node[keys[keys.length - 1] as string] = result;
  return copy;
}

function matches(errorEquals: readonly string[], error: string): boolean {
  return (
    errorEquals.includes(error) || (errorEquals.includes('States.ALL') && !error.startsWith('States.Runtime'))
  );
}

function choose(state: State, data: Json): string {
  for (const rule of state.Choices ?? []) {
    const variable = rule.Variable as string;
    if ('BooleanEquals' in rule) {
      if (isPresent(data, variable) && readPath(data, variable, null) === rule.BooleanEquals)
        return rule.Next;
    } else if ('IsPresent' in rule) {
      if (isPresent(data, variable) === rule.IsPresent) return rule.Next;
    } else {
      throw new StatesError('States.Runtime', `unsupported choice rule ${JSON.stringify(rule)}`);
    }
  }
  if (state.Default === undefined) throw new StatesError('States.NoChoiceMatched', 'no choice rule matched');
  return state.Default;
}

/** The name and cause Step Functions reports for a failed Lambda: `errorType`, and the error as JSON. */
function lambdaError(error: unknown): { error: string; cause: string } {
  if (error instanceof StatesError) return { error: error.error, cause: error.cause_ };
  const e = error as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  return {
    error: name,
    cause: JSON.stringify({ errorType: name, errorMessage: e?.message ?? String(error) }),
  };
}

export async function execute(
  definition: StateMachineDefinition,
  options: ExecuteOptions,
): Promise<Execution> {
  const history: ExecutionEvent[] = [];
  const context: Json = { Execution: { Name: options.name, Input: options.input } };
  const random = options.random ?? Math.random;
  const scale = options.timeScale ?? 1;
  let name = definition.StartAt;
  let data = options.input;
  for (let transitions = 0; transitions < (options.maxTransitions ?? 1000); transitions++) {
    const state = definition.States[name];
    if (!state) throw new Error(`state ${name} is not defined`);
    history.push({ state: name, type: 'entered' });
    let next: string | undefined;
    try {
      switch (state.Type) {
        case 'Succeed':
          return { status: 'SUCCEEDED', output: data, history };
        case 'Fail': {
          const error = state.ErrorPath ? String(readPath(data, state.ErrorPath, context)) : state.Error;
          const cause = state.CausePath ? String(readPath(data, state.CausePath, context)) : state.Cause;
          history.push({ state: name, type: 'failed', ...(error ? { error } : {}) });
          return { status: 'FAILED', ...(error ? { error } : {}), ...(cause ? { cause } : {}), history };
        }
        case 'Pass': {
          const result =
            state.Parameters === undefined ? data : applyParameters(state.Parameters, data, context);
          data = applyResultPath(data, state.ResultPath, result);
          break;
        }
        case 'Choice':
          next = choose(state, data);
          break;
        case 'Task': {
          const payload = applyParameters(state.Parameters ?? null, data, context);
          const result = await runTask(name, state, payload, options.invoke, history, random, scale);
          data = applyResultPath(data, state.ResultPath, result);
          break;
        }
      }
    } catch (error) {
      const { error: errorName, cause } = lambdaError(error);
      const catcher = state.Catch?.find((c) => matches(c.ErrorEquals, errorName));
      if (!catcher) {
        history.push({ state: name, type: 'failed', error: errorName });
        return { status: 'FAILED', error: errorName, cause, history };
      }
      history.push({ state: name, type: 'caught', error: errorName });
      data = applyResultPath(data, catcher.ResultPath, { Error: errorName, Cause: cause });
      next = catcher.Next;
    }
    if (next === undefined) {
      if (state.End) return { status: 'SUCCEEDED', output: data, history };
      next = state.Next;
    }
    if (next === undefined) throw new Error(`state ${name} has neither Next nor End`);
    name = next;
  }
  throw new Error(`execution ${options.name} exceeded its transitions`);
}

async function runTask(
  name: string,
  state: State,
  payload: Json,
  invoke: TaskInvoker,
  history: ExecutionEvent[],
  random: () => number,
  scale: number,
): Promise<Json> {
  const retries = new Map<Retrier, number>();
  for (let attempt = 1; ; attempt++) {
    try {
      return await invoke(state.Resource ?? '', payload, attempt);
    } catch (error) {
      const { error: errorName } = lambdaError(error);
      const retrier = state.Retry?.find((r) => matches(r.ErrorEquals, errorName));
      const done = retrier ? (retries.get(retrier) ?? 0) : 0;
      if (!retrier || done >= (retrier.MaxAttempts ?? 3)) throw error;
      retries.set(retrier, done + 1);
      const base = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** done;
      const capped = Math.min(base, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) * 1000;
      const waitMs = retrier.JitterStrategy === 'FULL' ? random() * capped : capped;
      history.push({ state: name, type: 'retry', error: errorName, attempt, waitMs });
      await new Promise((resolve) => setTimeout(resolve, waitMs * scale));
    }
  }
}
