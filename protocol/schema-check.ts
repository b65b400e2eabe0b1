/**
 * Checks a value against one of the API's schemas (protocol/schemas/) and says, in one sentence
 * a person can act on, what is wrong with it. The hub checks requests with it (hub/http/
 * request-validation.ts), the CLI the hub's answers: one engine (TypeBox's compiled checks) and
 * one wording on both sides.
 *
 * Two options a schema may carry, beside JSON Schema's own:
 * - `errorMessage`: what to say when the value there is not as the schema says ("must be an
 *   integer from 0 to 30000"), instead of a wording derived from the failing keyword;
 * - `errorCode`: the API error code a request gets when that part of it is wrong (`bad_user`);
 *   the innermost one on the path to the failure wins.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { ApiErrorCode } from './api-errors.ts';

/** The options of protocol/schemas/ beyond JSON Schema (see the header). */
export interface ProblemOptions {
  errorMessage?: string;
  errorCode?: ApiErrorCode;
}

export interface SchemaProblem {
  /** where, as a person reads it: `readings[0].value`, `users[2]`; '' for the value itself */
  path: string;
  /** the sentence, starting with the path (or with "the value" when it is the whole value) */
  message: string;
  /** the name of a property the schema does not take, when that is the problem */
  unknownProperty: string | null;
  /** the property names the object at `path` takes, when the problem is an unknown one */
  known: string[];
  /** the innermost `errorCode` on the way to the failure */
  errorCode: ApiErrorCode | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: SchemaProblem };

/** A compiled check of one schema: fast enough for every request and every answer. */
export class SchemaCheck<S extends TSchema> {
  private readonly compiled: TypeCheck<S>;

  /** `whole` names the value itself in messages: `the answer must be an object`. */
  constructor(
    readonly schema: S,
    private readonly whole = 'the value',
  ) {
    this.compiled = TypeCompiler.Compile(schema);
  }

  check(value: unknown): Checked<Static<S>> {
    if (this.compiled.Check(value)) return { ok: true, value };
    const first = this.compiled.Errors(value).First();
    // Check and Errors agree; a checker that found nothing to say still refuses.
    if (first === undefined) return { ok: false, problem: problemAt('', 'is not as expected', null, this.whole) };
    return { ok: false, problem: describe(this.schema, first, this.whole) };
  }
}

/** The sentence for a failure `error` of a value checked against `root`; `whole` names the value itself. */
export function describe(root: TSchema, error: ValueError, whole = 'the value'): SchemaProblem {
  const failure = innermost(error);
  const segments = pointerSegments(failure.path);
  if (failure.type === ValueErrorType.ObjectAdditionalProperties) {
    const name = segments[segments.length - 1] ?? '';
    const parentPath = segments.slice(0, -1);
    const parent = schemaAt(root, parentPath);
    const known = Object.keys((parent.at(-1) as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    const where = readablePath(parentPath);
    return {
      path: where,
      message: `${where === '' ? whole : where} has an unknown field "${clip(name)}"`,
      unknownProperty: name,
      known,
      errorCode: codeOn(parent),
    };
  }
  const chain = schemaAt(root, segments);
  // A missing property is reported with the property's schema: its errorMessage is about a value there is not.
  const own = failure.type === ValueErrorType.ObjectRequiredProperty ? undefined : (failure.schema as ProblemOptions).errorMessage;
  return problemAt(readablePath(segments), own ?? wording(failure), codeOn(chain), whole);
}

function problemAt(path: string, what: string, errorCode: ApiErrorCode | null, whole: string): SchemaProblem {
  return { path, message: `${path === '' ? whole : path} ${what}`, unknownProperty: null, known: [], errorCode };
}

/**
 * A union's own error says only "Expected union value": unless the union says what it wants
 * (`errorMessage`), the failure is taken from the variant that got furthest, which is the one
 * the value was most likely meant to be.
 */
function innermost(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union || (error.schema as ProblemOptions).errorMessage !== undefined) return error;
  let best: ValueError | null = null;
  for (const variant of error.errors) {
    const first = variant.First();
    if (first && (best === null || first.path.length > best.path.length)) best = first;
  }
  return best === null ? error : innermost(best);
}

/** What a failing keyword means, for schemas that do not say it themselves. */
function wording(e: ValueError): string {
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is missing';
    case ValueErrorType.String:
      return 'must be a string';
    case ValueErrorType.Number:
      return 'must be a number';
    case ValueErrorType.Integer:
      return 'must be a whole number';
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.Null:
      return 'must be null';
    case ValueErrorType.Array:
      return 'must be an array';
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be at least ${String(s.minimum)}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be at most ${String(s.maximum)}`;
    case ValueErrorType.StringMinLength:
      return `must have at least ${String(s.minLength)} characters`;
    case ValueErrorType.StringMaxLength:
      return `must have at most ${String(s.maxLength)} characters`;
    case ValueErrorType.StringPattern:
      return `must match ${String(s.pattern)}`;
    case ValueErrorType.ArrayMinItems:
      return `must have at least ${String(s.minItems)} items`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${String(s.maxItems)} items`;
    case ValueErrorType.Union:
      return 'is none of the forms it may take';
    default:
      return `is not as expected (${e.message.toLowerCase()})`;
  }
}

/** The schemas from `root` down to the one at `segments`, through object properties and array items. */
function schemaAt(root: TSchema, segments: readonly string[]): TSchema[] {
  const chain: TSchema[] = [root];
  let at: TSchema | undefined = root;
  for (const segment of segments) {
    at = childOf(at, segment);
    if (at === undefined) break;
    chain.push(at);
  }
  return chain;
}

function childOf(schema: TSchema, segment: string): TSchema | undefined {
  const s = schema as { properties?: Record<string, TSchema>; items?: TSchema; anyOf?: TSchema[] };
  if (s.properties && Object.hasOwn(s.properties, segment)) return s.properties[segment];
  if (s.items && /^\d+$/.test(segment)) return s.items;
  // A union: the first variant that has the segment (the object of an object-or-null, say).
  for (const variant of s.anyOf ?? []) {
    const child = childOf(variant, segment);
    if (child) return child;
  }
  return undefined;
}

function codeOn(chain: readonly TSchema[]): ApiErrorCode | null {
  for (let i = chain.length - 1; i >= 0; i--) {
    const code = (chain[i] as ProblemOptions).errorCode;
    if (code !== undefined) return code;
  }
  return null;
}

/** `/readings/0/value` (a JSON pointer, RFC 6901) as its parts. */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** `readings[0].value`: what a person writing JavaScript or jq would write. */
function readablePath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(clip(s))}]`;
  }
  return out;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}
