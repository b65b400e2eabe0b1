/**
 * Requests checked against the API's schemas (protocol/schemas/) before any route runs: fastify's
 * validator compiler, with TypeBox's compiled checks instead of Ajv. Nothing is coerced or
 * removed: a query value is text, a body is exactly what JSON.parse made of it, and a name the
 * schema does not list is refused, never dropped. A refusal is a HubError with the contract's
 * error body, its message naming the parameter or field and saying what it must be:
 *
 *   a name the route does not take      400 bad_parameter  unknown parameter "sensors"; this route takes sensor, room, metric
 *   a filter that is not text           400 bad_filter     sensor must be a string, a comma-separated list, or an array of strings
 *   a body that is not a JSON object    400 bad_request    the body must be a JSON object
 *   any other value                     400, the schema's errorCode (else bad_parameter)   timeout_ms must be an integer from 0 to 30000
 *
 * Routes without a query schema get NoParameters (registerRequestValidation): only health reads
 * parameters it does not list, since probes add their own.
 */
import { Readable } from 'node:stream';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler, preValidationHookHandler } from 'fastify';
import { SchemaCheck, type SchemaProblem } from '../../protocol/schema-check.ts';
import { NoParameters } from '../../protocol/schemas/common.ts';
import { HubError } from '../hub-error.ts';

/** fastify's request parts, and a stream's message (stream-connection.ts) */
type Part = 'body' | 'querystring' | 'params' | 'headers' | 'message';

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const checker = new SchemaCheck(schema);
  const part = (httpPart ?? 'body') as Part;
  return (value: unknown) => {
    // fastify passes null for a request without a body: a route whose fields are all optional
    // (report-now) takes none, one with required fields says which is missing.
    const input = part === 'body' && value === null ? {} : value;
    const checked = checker.check(input);
    return checked.ok ? { value: input } : { error: refusal(checked.problem, part) };
  };
};

/** The HubError for a request part that is not as its schema says. */
export function refusal(problem: SchemaProblem, part: Part): HubError {
  if (problem.unknownProperty !== null) return new HubError('bad_parameter', unknownMessage(problem, part));
  if (problem.path === '' && (part === 'body' || part === 'message'))
    return new HubError(problem.errorCode ?? 'bad_request', `the ${part} must be a JSON object`);
  return new HubError(problem.errorCode ?? 'bad_parameter', problem.message);
}

function unknownMessage(problem: SchemaProblem, part: Part): string {
  const name = clip(problem.unknownProperty!);
  const takes = problem.known.length > 0 ? `takes ${problem.known.join(', ')}` : 'takes none';
  if (problem.path !== '') return `${problem.path} has an unknown field "${name}"; it ${takes}`;
  if (part === 'querystring')
    return `unknown parameter "${name}"; ${problem.known.length > 0 ? `this route takes ${problem.known.join(', ')}` : 'this route takes no parameters'}`;
  return part === 'message' ? `unknown field "${name}"; the message ${takes}` : `unknown field "${name}" in the body; this route ${takes}`;
}

/**
 * by route URL: the routes whose body is CSV, read by the route as a stream. Every other route
 * takes JSON: the upload's CSV parser is registered in the scope all routes share, so a CSV
 * body elsewhere would otherwise reach its schema as a stream object.
 */
const ROUTES_WITH_CSV_BODY = new Set(['/api/v1/readings']);

const jsonOnly: preValidationHookHandler = (request, _reply, done) => {
  if (request.body instanceof Readable)
    return done(
      new HubError('unsupported_media_type', `${request.routeOptions.url} takes JSON: send it with Content-Type: application/json`),
    );
  done();
};

/**
 * The schemas' validator for every route, and two rules every route follows: a route that lists
 * no query parameters takes none, and only the upload takes a CSV body. Call it in the scope the
 * routes are registered in, after the rate limit's plugin, so a refused request counts too.
 */
export function registerRequestValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.addHook('onRoute', (route) => {
    const schema: FastifySchema = { ...route.schema };
    schema.querystring ??= NoParameters;
    route.schema = schema;
    if (ROUTES_WITH_CSV_BODY.has(route.url)) return;
    const hooks = route.preValidation;
    route.preValidation = hooks === undefined ? [jsonOnly] : [...(Array.isArray(hooks) ? hooks : [hooks]), jsonOnly];
  });
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) : s;
}
