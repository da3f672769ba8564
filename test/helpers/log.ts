import { createLogger, type Logger, type LogLevel } from '../../src/log.js';

export interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A real pino logger whose JSON lines are parsed into `records` and their messages into `lines`. */
export function captureLogger(lines: string[] = [], level: LogLevel = 'debug'): { logger: Logger; lines: string[]; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = createLogger(level, {
    write(s: string) {
      for (const l of s.split('\n').filter(Boolean)) {
        const r = JSON.parse(l) as LogRecord;
        records.push(r);
        lines.push(r.msg);
      }
    },
  });
  return { logger, lines, records };
}
