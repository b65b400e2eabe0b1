// Command-line rules of PROTOCOL.md §3, and the name rules of §1 "Names and values" for filters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_HUB_URL, defaults, parseCommandLine, parseHubUrl, parseIntegerOption, parseNameList } from './args.ts';
import type { CommandSpec } from './command.ts';
import { ExitCode, UsageError } from './errors.ts';

const run = async (): Promise<typeof ExitCode.Done> => ExitCode.Done;
const commands: CommandSpec[] = [
  { name: 'latest', summary: 's', options: { refresh: { type: 'string', help: 'h' } }, run },
  { name: 'sensors', summary: 's', run },
  { name: 'upload', summary: 's', args: [{ name: 'FILE', required: true }], run },
];

function parse(argv: string[], env: Record<string, string | undefined> = {}) {
  return parseCommandLine(argv, env, commands);
}

function usageError(argv: string[], env: Record<string, string | undefined> = {}): string {
  try {
    parse(argv, env);
  } catch (error) {
    assert.instance(error, UsageError);
    return (error as UsageError).message;
  }
  assert.unreachable(`expected a usage error for ${argv.join(' ')}`);
  return '';
}

test('global options parse the same before and after the command', () => {
  const before = parse(['--hub', 'http://h:1', '--json', '--room', 'hall', 'latest']);
  const after = parse(['latest', '--hub', 'http://h:1', '--json', '--room', 'hall']);
  assert.equal(before, after);
  assert.is(before.command, 'latest');
  assert.is(before.json, true);
  assert.is(before.hubUrl.href, 'http://h:1/');
  assert.equal(before.filters, { sensor: [], room: ['hall'], metric: [] });
});

test('filters take comma-separated lists, repeated flags add up, and duplicates are dropped', () => {
  const line = parse(['--sensor', 'a,b', 'latest', '--sensor=c', '--sensor', 'a', '--metric', 'temperature, humidity']);
  assert.equal(line.filters.sensor, ['a', 'b', 'c']);
  assert.equal(line.filters.metric, ['temperature', 'humidity']);
});

test('filter values are checked against the contract name rules', () => {
  assert.match(usageError(['latest', '--sensor', 'bad id']), /--sensor.*"bad id"/);
  assert.match(usageError(['latest', '--sensor', '-x-']), /--sensor/);
  assert.match(usageError(['latest', '--room', 'x'.repeat(65)]), /--room/);
  assert.match(usageError(['latest', '--metric', 'Temperature']), /--metric.*"Temperature"/);
  assert.match(usageError(['latest', '--metric', 'temperature,,humidity']), /empty item/);
  assert.equal(parseNameList('sensor', ['rack1-temp', 'a.b:c_d-e']), ['rack1-temp', 'a.b:c_d-e']);
  assert.equal(parseNameList('room', ['x'.repeat(64)]), ['x'.repeat(64)]);
});

test('the hub is --hub, else ROOMWATCH_HUB, else the default', () => {
  assert.is(parse(['latest']).hubUrl.href, new URL(DEFAULT_HUB_URL).href);
  assert.is(parse(['latest'], { ROOMWATCH_HUB: 'http://env:2' }).hubUrl.href, 'http://env:2/');
  assert.is(parse(['latest', '--hub', 'http://flag:3'], { ROOMWATCH_HUB: 'http://env:2' }).hubUrl.href, 'http://flag:3/');
  assert.is(parse(['latest'], { ROOMWATCH_HUB: '' }).hubUrl.href, new URL(DEFAULT_HUB_URL).href);
});

test('a hub given as host:port means http, and a path prefix is kept', () => {
  assert.is(parseHubUrl('localhost:8080', '--hub').href, 'http://localhost:8080/');
  assert.is(parseHubUrl('https://example.org/roomwatch/?x=1#y', '--hub').href, 'https://example.org/roomwatch/');
});

test('hub URLs with another scheme, credentials or no host are usage errors naming their source', () => {
  assert.match(usageError(['latest', '--hub', 'ftp://h']), /only http/);
  assert.match(usageError(['latest', '--hub', 'http://u:p@h']), /ROOMWATCH_TOKEN/);
  assert.match(usageError(['latest'], { ROOMWATCH_HUB: 'http://' }), /ROOMWATCH_HUB/);
});

test('unknown commands and unknown options are usage errors', () => {
  assert.match(usageError(['lates']), /unknown command "lates"/);
  assert.match(usageError(['latest', '--bogus']), /unknown option --bogus/);
  assert.match(usageError(['latest', '-x']), /unknown option -x/);
});

test('an option that needs a value does not swallow the next option', () => {
  assert.match(usageError(['latest', '--hub']), /--hub needs a value/);
  assert.match(usageError(['latest', '--hub', '--json']), /--hub needs a value/);
  assert.match(usageError(['latest', '--json=yes']), /--json takes no value/);
});

test("a command's own option is refused on other commands but may stand before its command", () => {
  assert.match(usageError(['sensors', '--refresh', '100']), /--refresh does not apply to sensors/);
  assert.equal(parse(['--refresh', '100', 'latest']).commandOptions, { refresh: '100' });
});

test('arguments are counted against what the command declares', () => {
  assert.match(usageError(['latest', 'extra']), /unexpected argument "extra"/);
  assert.match(usageError(['upload']), /upload needs FILE/);
  assert.equal(parse(['upload', 'f.csv']).args, ['f.csv']);
});

test('help is recognised anywhere, and is not blocked by a value that would be refused', () => {
  assert.is(parse(['-h']).help, true);
  assert.is(parse(['latest', '--help', '--sensor', 'bad id']).help, true);
  assert.is(parse(['help', 'latest']).command, 'help');
  assert.equal(parse(['help', 'latest']).args, ['latest']);
});

test('the timeout defaults, and must be a whole number of milliseconds', () => {
  assert.is(parse(['latest']).timeoutMs, defaults.timeoutMs);
  assert.is(parse(['latest', '--timeout', '250']).timeoutMs, 250);
  assert.match(usageError(['latest', '--timeout', '0']), /--timeout/);
  assert.match(usageError(['latest', '--timeout', '1.5']), /--timeout/);
  assert.is(parseIntegerOption('--times', '3', 1, 10), 3);
  assert.throws(
    () => parseIntegerOption('--times', '-3', 1, 10),
    (e: unknown) => e instanceof UsageError,
  );
  assert.throws(
    () => parseIntegerOption('--times', '1e3', 1, 10_000),
    (e: unknown) => e instanceof UsageError,
  );
});

test('a token comes from ROOMWATCH_TOKEN and must be fit for a header', () => {
  assert.is(parse(['latest']).token, undefined);
  assert.is(parse(['latest'], { ROOMWATCH_TOKEN: 'abc.123' }).token, 'abc.123');
  assert.match(usageError(['latest'], { ROOMWATCH_TOKEN: 'a b' }), /ROOMWATCH_TOKEN/);
});

const withAccess: CommandSpec[] = [
  ...commands,
  {
    name: 'users',
    summary: 's',
    subcommands: [
      { name: 'list', summary: 's' },
      { name: 'add', summary: 's', args: [{ name: 'NAME', required: true }], options: ['role', 'room', 'password-stdin'] },
    ],
    options: { role: { type: 'string', help: 'h' }, 'password-stdin': { type: 'boolean', help: 'h' } },
    filterFlags: { room: { type: 'string', help: 'h' } },
    run,
  },
  { name: 'login', summary: 's', options: { 'password-stdin': { type: 'boolean', help: 'h' } }, filterFlags: false, run },
];

function accessUsageError(argv: string[]): string {
  try {
    parseCommandLine(argv, {}, withAccess);
  } catch (error) {
    assert.instance(error, UsageError);
    return (error as UsageError).message;
  }
  assert.unreachable(`expected a usage error for ${argv.join(' ')}`);
  return '';
}

test('a subcommand is the first argument; its own arguments and options are checked against it', () => {
  const line = parseCommandLine(['users', '--room', 'hall,*', 'add', 'sue', '--role', 'admin'], {}, withAccess);
  assert.is(line.subcommand, 'add');
  assert.equal(line.args, ['sue']);
  assert.equal(line.commandOptions, { role: 'admin' });
  assert.equal(line.filters.room, ['hall', '*'], 'a command that owns --room checks its values itself');
  assert.match(accessUsageError(['users']), /users needs a subcommand: list, add/);
  assert.match(accessUsageError(['users', 'drop']), /unknown subcommand "drop" of users/);
  assert.match(accessUsageError(['users', 'add']), /users add needs NAME/);
  assert.match(accessUsageError(['users', 'list', 'x']), /unexpected argument "x" after users list/);
  assert.match(accessUsageError(['users', 'list', '--role', 'x']), /--role does not apply to users list/);
  assert.match(accessUsageError(['users', 'add', 'sue', '--metric', 'temperature']), /--metric does not apply to users/);
  assert.is(parseCommandLine(['users', '--help'], {}, withAccess).help, true);
});

test('commands may share an option of the same kind; filters are refused where they mean nothing', () => {
  assert.equal(parseCommandLine(['login', '--password-stdin'], {}, withAccess).commandOptions, { 'password-stdin': true });
  assert.match(accessUsageError(['login', '--room', 'hall']), /--room does not apply to login/);
  assert.match(accessUsageError(['latest', '--password-stdin']), /--password-stdin does not apply to latest/);
  assert.match(accessUsageError(['--password-stdin']), /belongs to the commands users, login/);
});

test('where the hub URL came from is kept, for advice that names a command to run', () => {
  assert.is(parse(['latest']).hubSource, 'default');
  assert.is(parse(['latest'], { ROOMWATCH_HUB: 'http://env:2' }).hubSource, 'env');
  assert.is(parse(['latest', '--hub', 'http://flag:3'], { ROOMWATCH_HUB: 'http://env:2' }).hubSource, 'flag');
});

test('two commands defining the same option is a programming error caught at parse', () => {
  const clash: CommandSpec[] = [
    { name: 'a', summary: 's', options: { x: { type: 'string', help: 'h' } }, run },
    { name: 'b', summary: 's', options: { x: { type: 'boolean', help: 'h' } }, run },
  ];
  assert.throws(
    () => parseCommandLine(['a'], {}, clash),
    (e: unknown) => !(e instanceof UsageError) && /--x/.test(String(e)),
  );
});

test.run();
