/**
 * Parses the command line (PROTOCOL.md §3): one command, global options before or after it,
 * the filters `--sensor`, `--room`, `--metric` as lists. Every value is checked here, against
 * the contract's name rules, so a bad one is a usage error (exit 2) before any request is sent.
 */
import { parseArgs } from 'node:util';
import { FILTER_NAMES, parseFilterValues, parseList } from '../protocol/filters.ts';
import type { ArgSpec, CommandSpec, OptionSpec } from './command.ts';
import { UsageError } from './errors.ts';

export const DEFAULT_HUB_URL = 'http://127.0.0.1:8080';

export const defaults = {
  hubUrl: DEFAULT_HUB_URL,
  // Generous: a hub on a Raspberry Pi answering `latest` for many sensors can take seconds.
  timeoutMs: 10_000,
} as const;

export interface Filters {
  sensor: string[];
  room: string[];
  metric: string[];
}

export { FILTER_NAMES };

export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  hub: { type: 'string', valueName: 'URL', help: `the hub's HTTP address (else $ROOMWATCH_HUB, else ${DEFAULT_HUB_URL})` },
  ca: {
    type: 'string',
    valueName: 'FILE',
    help: "for an https:// hub: trust the CA certificate(s) in this PEM file instead of Node's default store (else $ROOMWATCH_CA)",
  },
  sensor: { type: 'string', valueName: 'ID[,ID...]', help: 'only these sensors; the flag may be repeated' },
  room: { type: 'string', valueName: 'ROOM[,ROOM...]', help: 'only these rooms; the flag may be repeated' },
  metric: { type: 'string', valueName: 'NAME[,NAME...]', help: 'only these metrics; the flag may be repeated' },
  json: { type: 'boolean', help: "print the hub's JSON answer instead of a table" },
  timeout: {
    type: 'string',
    valueName: 'MS',
    help: `give up on a request after MS milliseconds (default ${defaults.timeoutMs}); for history and upload, after MS ms without progress`,
  },
  help: { type: 'boolean', short: 'h', help: 'show help (for a command: `<command> --help`)' },
};

export interface CommandLine {
  /** The command as typed; undefined when none was given. `help` is the built-in help. */
  command: string | undefined;
  /** For a command with subcommands: the one given. */
  subcommand: string | undefined;
  /** Arguments after the command name, or after the subcommand for a command that has them. */
  args: string[];
  help: boolean;
  json: boolean;
  hubUrl: URL;
  /** Where the hub URL came from: advice that names a command to run adds `--hub` when it was the flag. */
  hubSource: 'flag' | 'env' | 'default';
  timeoutMs: number;
  filters: Filters;
  /** The chosen command's own options. */
  commandOptions: Record<string, string | boolean>;
  token: string | undefined;
  /** --ca, else ROOMWATCH_CA: a PEM file of CA certificates to trust for https and wss; read by cli.ts. */
  caFile: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

interface KnownOption {
  spec: OptionSpec;
  /** The commands that take it; undefined for a global option. */
  owners: string[] | undefined;
}

/** Every option any command knows, with the commands that own it (undefined: global). */
function optionTable(commands: readonly CommandSpec[]): Map<string, KnownOption> {
  const table = new Map<string, KnownOption>();
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) table.set(name, { spec, owners: undefined });
  for (const command of commands) {
    for (const [name, spec] of Object.entries(command.options ?? {})) {
      const known = table.get(name);
      // One tokenizer serves all commands, so a name must mean the same kind of option everywhere.
      if (known && (known.owners === undefined || known.spec.type !== spec.type || known.spec.short !== spec.short)) {
        throw new Error(`option --${name} of command ${command.name} is already defined differently`);
      }
      if (known) known.owners?.push(command.name);
      else table.set(name, { spec, owners: [command.name] });
    }
  }
  return table;
}

function looksLikeOption(value: string): boolean {
  return /^-(-|[A-Za-z])/.test(value);
}

/** Parses argv (without node and script). Throws UsageError for anything the user must fix. */
export function parseCommandLine(argv: readonly string[], env: Env, commands: readonly CommandSpec[]): CommandLine {
  const known = optionTable(commands);
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, { spec }] of known) parseOptions[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };

  // Non-strict, as a tokenizer only: the checks below give shorter messages than parseArgs' own.
  const { tokens } = parseArgs({ args: [...argv], options: parseOptions, strict: false, allowPositionals: true, tokens: true });

  const positionals: string[] = [];
  const strings = new Map<string, string[]>();
  const flags = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const entry = known.get(token.name);
    if (!entry) throw new UsageError(`unknown option ${token.rawName}`);
    if (entry.spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value`);
      flags.add(token.name);
      continue;
    }
    // parseArgs takes the next word as the value even if it is an option: `--hub --json`.
    if (token.value === undefined || (!token.inlineValue && looksLikeOption(token.value))) {
      throw new UsageError(`option ${token.rawName} needs a value`);
    }
    strings.set(token.name, [...(strings.get(token.name) ?? []), token.value]);
  }

  const [command, ...args] = positionals;
  const help = flags.has('help');
  const chosen = commands.find((c) => c.name === command);
  if (command !== undefined && command !== 'help' && !chosen) {
    throw new UsageError(`unknown command "${command}"`);
  }

  const commandOptions: Record<string, string | boolean> = {};
  for (const name of [...strings.keys(), ...flags]) {
    const owners = known.get(name)?.owners;
    if (owners === undefined) continue;
    if (!chosen || !owners.includes(chosen.name)) {
      const whose = owners.length === 1 ? `the command ${owners[0]}` : `the commands ${owners.join(', ')}`;
      throw new UsageError(chosen ? `option --${name} does not apply to ${chosen.name}` : `option --${name} belongs to ${whose}`);
    }
    commandOptions[name] = strings.get(name)?.at(-1) ?? true;
  }
  const givenFilters = FILTER_NAMES.filter((name) => strings.has(name));
  if (chosen && chosen.filterFlags !== undefined) {
    const own = chosen.filterFlags === false ? {} : chosen.filterFlags;
    const stray = givenFilters.find((name) => own[name] === undefined);
    if (stray !== undefined && !help) throw new UsageError(`option --${stray} does not apply to ${chosen.name}`);
  }

  let subcommand: string | undefined;
  let rest = args;
  if (chosen?.subcommands && !help) {
    const names = chosen.subcommands.map((s) => s.name).join(', ');
    const [given, ...after] = args;
    const first = given ?? chosen.defaultSubcommand;
    if (first === undefined) throw new UsageError(`${chosen.name} needs a subcommand: ${names}`);
    const sub = chosen.subcommands.find((s) => s.name === first);
    if (!sub) throw new UsageError(`unknown subcommand "${first}" of ${chosen.name}; the subcommands are ${names}`);
    const stray = [...Object.keys(commandOptions), ...givenFilters].find((name) => !(sub.options ?? []).includes(name));
    if (stray !== undefined) throw new UsageError(`option --${stray} does not apply to ${chosen.name} ${sub.name}`);
    subcommand = sub.name;
    rest = after;
    checkArgCount(`${chosen.name} ${sub.name}`, sub.args ?? [], rest);
  } else if (chosen && !chosen.subcommands) {
    // `upload --help` shows help although FILE is missing; too many arguments are still an error.
    checkArgCount(chosen.name, chosen.args ?? [], rest, { countRequired: !help });
  } else if (command === 'help' && args.length > 1) {
    throw new UsageError(`unexpected argument "${args[1]}" after help`);
  }

  const hubText = strings.get('hub')?.at(-1);
  const envHub = env.ROOMWATCH_HUB === '' ? undefined : env.ROOMWATCH_HUB;
  const line: CommandLine = {
    command,
    subcommand,
    args: rest,
    help,
    json: flags.has('json'),
    hubUrl: new URL(defaults.hubUrl),
    hubSource: 'default',
    timeoutMs: defaults.timeoutMs,
    filters: { sensor: [], room: [], metric: [] },
    commandOptions,
    token: undefined,
    caFile: undefined,
  };
  // Asking for help must work even next to a value that would be refused.
  if (help || command === 'help') return line;

  // A command that gives the flags its own meaning checks their values itself.
  const ownLists = chosen?.filterFlags !== undefined;
  for (const name of FILTER_NAMES) {
    const values = strings.get(name) ?? [];
    line.filters[name] = ownLists ? splitList(`--${name}`, values) : parseNameList(name, values);
  }
  if (hubText !== undefined) {
    line.hubUrl = parseHubUrl(hubText, '--hub');
    line.hubSource = 'flag';
  } else if (envHub !== undefined) {
    line.hubUrl = parseHubUrl(envHub, 'ROOMWATCH_HUB');
    line.hubSource = 'env';
  }
  const timeoutText = strings.get('timeout')?.at(-1);
  if (timeoutText !== undefined) line.timeoutMs = parseIntegerOption('--timeout', timeoutText, 1, 3_600_000);
  line.token = parseToken(env.ROOMWATCH_TOKEN);
  const caText = strings.get('ca')?.at(-1);
  if (caText === '') throw new UsageError('--ca needs a file name');
  line.caFile = caText ?? (env.ROOMWATCH_CA === '' ? undefined : env.ROOMWATCH_CA);
  return line;
}

function checkArgCount(what: string, declared: readonly ArgSpec[], args: readonly string[], options = { countRequired: true }): void {
  const required = declared.filter((a) => a.required).length;
  if (args.length > declared.length) throw new UsageError(`unexpected argument "${args[declared.length]}" after ${what}`);
  if (options.countRequired && args.length < required)
    throw new UsageError(
      `${what} needs ${declared
        .slice(args.length)
        .map((a) => a.name)
        .join(' ')}`,
    );
}

/**
 * Values of one list flag, each flag a value or a comma-separated list, by the API's list rule
 * (protocol/filters.ts): spaces around commas forgiven (`--room "hall, kitchen"`), empty items
 * refused, duplicates dropped, order kept.
 */
export function splitList(flag: string, values: readonly string[]): string[] {
  const list = parseList(flag, values);
  if (!list.ok) throw new UsageError(list.problem);
  return list.items;
}

/** A filter flag's values, each checked against the contract's name rules, as the hub checks them. */
export function parseNameList(name: keyof Filters, values: readonly string[]): string[] {
  const list = parseFilterValues(name, values, `--${name}`);
  if (!list.ok) throw new UsageError(list.problem);
  return list.items;
}

/**
 * The hub's base URL. A bare `host:port` gets `http://`, since that is what anyone typing it
 * means; other schemes and embedded credentials are refused (tokens go in ROOMWATCH_TOKEN).
 */
export function parseHubUrl(text: string, source: string): URL {
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid hub URL "${text}" (from ${source}); expected e.g. ${DEFAULT_HUB_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid hub URL "${text}" (from ${source}): only http and https are supported`);
  }
  if (url.username || url.password) {
    throw new UsageError(`invalid hub URL (from ${source}): put credentials in ROOMWATCH_TOKEN, not in the URL`);
  }
  url.hash = '';
  url.search = '';
  return url;
}

/** A whole number in [min, max], written in plain digits. */
export function parseIntegerOption(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return n;
}

function parseToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  // A header value cannot hold these; say so here rather than as a confusing fetch failure.
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UsageError('ROOMWATCH_TOKEN must be printable ASCII without spaces');
  return token;
}

/** True when any filter is given. */
export function hasFilters(filters: Filters): boolean {
  return FILTER_NAMES.some((name) => filters[name].length > 0);
}
