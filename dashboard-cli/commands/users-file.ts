/**
 * The file of `users import FILE`: JSON, an array of `{"user","password","role","rooms"}` or
 * `{"users":[...]}` (the shape of fixtures/demo-users.json). The whole file is checked before
 * anything is sent, and every problem is listed at once with the place it is at
 * (`users[2].role must be admin, operator or viewer`), as csv-parse reports every bad record.
 */
import { readFile } from 'node:fs/promises';
import type { Role } from '../access-types.ts';
import { describeFsError } from '../describe-error.ts';
import { LocalFileError } from '../errors.ts';
import { MIN_PASSWORD_CHARS, ROLE_RULE, isRole, roomsProblem, userNameProblem } from './access-values.ts';

export interface ImportedUser {
  user: string;
  password: string;
  role: Role;
  rooms: string[];
}

const FIELDS = ['user', 'password', 'role', 'rooms'];
/** Enough to fix a file in a few rounds; a file with more problems is likely not a users file at all. */
const MAX_PROBLEMS_SHOWN = 20;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every problem of one entry, each a sentence beginning with its place. */
function entryProblems(entry: unknown, where: string): string[] {
  if (!isObject(entry)) return [`${where} must be an object {"user","password","role","rooms"}`];
  const problems: string[] = [];
  for (const field of FIELDS) if (!(field in entry)) problems.push(`${where}.${field} is missing`);
  for (const field of Object.keys(entry)) if (!FIELDS.includes(field)) problems.push(`${where} has an unknown field "${field}"`);
  const { user, password, role, rooms } = entry;
  if ('user' in entry) {
    const problem = userNameProblem(user);
    if (problem) problems.push(`${where}.user ${problem}`);
  }
  if ('password' in entry) {
    if (typeof password !== 'string') problems.push(`${where}.password must be a string`);
    else if ([...password].length < MIN_PASSWORD_CHARS)
      problems.push(`${where}.password must have at least ${MIN_PASSWORD_CHARS} characters`);
  }
  if ('role' in entry && !isRole(role)) problems.push(`${where}.role ${ROLE_RULE}`);
  if ('rooms' in entry) {
    if (!Array.isArray(rooms)) problems.push(`${where}.rooms must be an array of room names, or ["*"] for every room`);
    else {
      const problem = roomsProblem(rooms);
      if (problem) problems.push(`${where}.rooms ${problem}`);
    }
  }
  return problems;
}

/** The users of the file's text, or a LocalFileError (exit 2) listing every problem. */
export function parseUsersFile(text: string, file: string): ImportedUser[] {
  const fail = (problems: readonly string[]): never => {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  ${p}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`  ... and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
    throw new LocalFileError([`cannot import ${file}: nothing was sent`, ...shown].join('\n'));
  };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return fail([`it is not JSON (${error instanceof Error ? error.message : String(error)})`]);
  }
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.users) ? body.users : undefined;
  if (list === undefined) return fail(['it must hold an array of users, or {"users":[...]}']);
  if (list.length === 0) return fail(['it holds no users']);
  const problems: string[] = [];
  /** first place of each user name */
  const seen = new Map<string, string>();
  list.forEach((entry, i) => {
    const where = `users[${i}]`;
    problems.push(...entryProblems(entry, where));
    if (isObject(entry) && typeof entry.user === 'string') {
      const first = seen.get(entry.user);
      if (first !== undefined) problems.push(`${where}.user "${entry.user}" is given twice (also ${first})`);
      else seen.set(entry.user, where);
    }
  });
  if (problems.length > 0) return fail(problems);
  return list as ImportedUser[];
}

export async function readUsersFile(file: string): Promise<ImportedUser[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new LocalFileError(`cannot read "${file}": ${describeFsError(error)}`);
  }
  return parseUsersFile(text, file);
}
