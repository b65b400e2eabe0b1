/** The hub's logger: JSON lines when piped (for machines and tests), pretty on a terminal. */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './options.ts';

export function createLogger(level: LogLevel): Logger {
  if (process.stdout.isTTY && level !== 'silent') {
    return pino({
      level,
      transport: {
        target: 'pino-pretty',
        options: { colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino({ level, base: undefined });
}
