/**
 * The CLI's commands, in the order help lists them: the six of PROTOCOL.md §3, then those of
 * docs/ADMIN.md "Access control". `help` is built in (cli.ts).
 */
import type { CommandSpec } from './command.ts';
import { activityCommand } from './commands/activity.ts';
import { backupCommand } from './commands/backup.ts';
import { alertsCommand } from './commands/alerts.ts';
import { historyCommand } from './commands/history.ts';
import { integrationsCommand } from './commands/integrations.ts';
import { latestCommand } from './commands/latest.ts';
import { loginCommand } from './commands/login.ts';
import { logoutCommand } from './commands/logout.ts';
import { reportNowCommand } from './commands/report-now.ts';
import { sensorsCommand } from './commands/sensors.ts';
import { tokensCommand } from './commands/tokens.ts';
import { uploadCommand } from './commands/upload.ts';
import { usersCommand } from './commands/users.ts';
import { watchCommand } from './commands/watch.ts';
import { whoamiCommand } from './commands/whoami.ts';

export const commandTable: readonly CommandSpec[] = [
  latestCommand,
  sensorsCommand,
  historyCommand,
  uploadCommand,
  reportNowCommand,
  watchCommand,
  loginCommand,
  logoutCommand,
  whoamiCommand,
  usersCommand,
  tokensCommand,
  activityCommand,
  backupCommand,
  alertsCommand,
  integrationsCommand,
];
