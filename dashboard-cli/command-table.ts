/**
 * The CLI's commands, in the order help lists them: the six of PROTOCOL.md §3. `help` is built
 * in (cli.ts).
 */
import type { CommandSpec } from './command.ts';
import { historyCommand } from './commands/history.ts';
import { latestCommand } from './commands/latest.ts';
import { reportNowCommand } from './commands/report-now.ts';
import { sensorsCommand } from './commands/sensors.ts';
import { uploadCommand } from './commands/upload.ts';
import { watchCommand } from './commands/watch.ts';

export const commandTable: readonly CommandSpec[] = [latestCommand, sensorsCommand, historyCommand, uploadCommand, reportNowCommand, watchCommand];
