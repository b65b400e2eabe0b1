/**
 * The CLI's commands, in the order help lists them. `help` is built in (cli.ts). The contract's
 * other commands (history, upload, report-now, watch) are added here as they are written.
 */
import type { CommandSpec } from './command.ts';
import { latestCommand } from './commands/latest.ts';
import { sensorsCommand } from './commands/sensors.ts';

export const commandTable: readonly CommandSpec[] = [latestCommand, sensorsCommand];
