/** The help text, built from the command table so a new command documents itself. */
import { GLOBAL_OPTIONS } from './args.ts';
import type { CommandSpec, OptionSpec } from './command.ts';

const USAGE = 'Usage: npm run cli -- <command> [options]';

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.valueName ? ` ${spec.valueName}` : ''}`;
    return [flag, spec.help] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

function commandUsage(command: CommandSpec): string {
  if (command.subcommands) return `Usage: npm run cli -- ${command.name} <subcommand> [options]`;
  const args = (command.args ?? []).map((a) => (a.required ? ` ${a.name}` : ` [${a.name}]`)).join('');
  return `Usage: npm run cli -- ${command.name}${args} [options]`;
}

/** The command's own options, and the filter flags it gives a meaning of its own (`users add --room`). */
function ownOptions(command: CommandSpec): Record<string, OptionSpec> {
  const flags = command.filterFlags === undefined || command.filterFlags === false ? {} : command.filterFlags;
  const own: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(flags)) if (spec) own[name] = spec;
  return { ...own, ...command.options };
}

/** The global options that apply to the command: the filters only where they are filters. */
function globalOptions(command: CommandSpec): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) {
    if (command.filterFlags !== undefined && (name === 'sensor' || name === 'room' || name === 'metric')) continue;
    out[name] = spec;
  }
  return out;
}

const ENVIRONMENT = [
  'Environment:',
  '  ROOMWATCH_HUB         the hub URL when --hub is not given',
  '  ROOMWATCH_TOKEN       sent as "Authorization: Bearer <token>" instead of the stored login',
  '  ROOMWATCH_CA          the CA file when --ca is not given (for a hub that serves TLS)',
  '  ROOMWATCH_CONFIG_DIR  where login keeps credentials.json (else $XDG_CONFIG_HOME/roomwatch, else',
  '                        ~/.config/roomwatch; %APPDATA%\\roomwatch on Windows)',
  '  NO_COLOR              set (non-empty) to turn colour off; colour is only used on a terminal',
];

const EXIT_CODES = [
  'Exit codes:',
  '  0  done',
  '  1  the hub refused the request (its message is printed, and what to do for a login), or its answer was unusable',
  '  2  usage: unknown command or option, a bad value, or a file that cannot be read, written or used',
  '  3  no connection to the hub: refused, unknown host, or no answer in time',
];

export function generalHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(4, ...commands.map((c) => c.name.length));
  const lines = [
    'roomwatch: read the Roomwatch hub from the command line.',
    '',
    USAGE,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  this text; "help <command>" for one command`,
    '',
    'Options (before or after the command; filters take a value or a comma-separated list):',
    ...optionLines(GLOBAL_OPTIONS),
  ];
  for (const c of commands) {
    const own = ownOptions(c);
    if (Object.keys(own).length > 0) lines.push('', `Options of ${c.name}:`, ...optionLines(own));
  }
  lines.push('', ...ENVIRONMENT, '', ...EXIT_CODES, '');
  return lines.join('\n');
}

export function commandHelp(command: CommandSpec): string {
  const summary = command.summary.charAt(0).toUpperCase() + command.summary.slice(1);
  const lines = [commandUsage(command), '', summary + '.', ...(command.details ?? [])];
  if (command.subcommands) {
    lines.push('', 'Subcommands:');
    for (const sub of command.subcommands) {
      const args = (sub.args ?? []).map((a) => (a.required ? ` ${a.name}` : ` [${a.name}]`)).join('');
      lines.push(`  ${command.name} ${sub.name}${args}${sub.synopsis ? ` ${sub.synopsis}` : ''}`, `      ${sub.summary}`);
    }
  }
  const own = ownOptions(command);
  if (Object.keys(own).length > 0) lines.push('', 'Options:', ...optionLines(own));
  lines.push('', 'Global options:', ...optionLines(globalOptions(command)), '', ...EXIT_CODES, '');
  return lines.join('\n');
}
