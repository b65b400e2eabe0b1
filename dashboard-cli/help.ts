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
  const args = (command.args ?? []).map((a) => (a.required ? ` ${a.name}` : ` [${a.name}]`)).join('');
  return `Usage: npm run cli -- ${command.name}${args} [options]`;
}

const ENVIRONMENT = [
  'Environment:',
  '  ROOMWATCH_HUB    the hub URL when --hub is not given',
  '  ROOMWATCH_TOKEN  sent as "Authorization: Bearer <token>", for hubs that require it',
  '  ROOMWATCH_CA     the CA file when --ca is not given (for a hub that serves TLS)',
  '  NO_COLOR         set (non-empty) to turn colour off; colour is only used on a terminal',
];

const EXIT_CODES = [
  'Exit codes:',
  '  0  done',
  "  1  the hub refused the request (its message is printed), or its answer was unusable",
  '  2  usage: unknown command or option, a bad value, or a file that cannot be read or written',
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
    if (c.options && Object.keys(c.options).length > 0) lines.push('', `Options of ${c.name}:`, ...optionLines(c.options));
  }
  lines.push('', ...ENVIRONMENT, '', ...EXIT_CODES, '');
  return lines.join('\n');
}

export function commandHelp(command: CommandSpec): string {
  const summary = command.summary.charAt(0).toUpperCase() + command.summary.slice(1);
  const lines = [commandUsage(command), '', summary + '.', ...(command.details ?? [])];
  if (command.options && Object.keys(command.options).length > 0) lines.push('', 'Options:', ...optionLines(command.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS), '', ...EXIT_CODES, '');
  return lines.join('\n');
}
