import { type DestinationStream, type Logger as Pino, pino } from 'pino';

/** config `logLevel`; SIGHUP may change it. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

type Fields = Record<string, unknown>;

/**
 * The daemon's log: one JSON line per event on stderr (journald keeps it as is), with
 * `level` (error, warn, info, debug), ISO `time`, `msg` and the event's fields, e.g.
 * {"level":"warn","time":"…","msg":"source mic (mic default): down: …","source":"mic","state":"down","code":"MIC_FAILED"}.
 * Lines below the configured level are not written.
 */
export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  setLevel(level: LogLevel): void;
}

/** `dest` defaults to stderr, written synchronously so nothing is lost when the process exits. */
export function createLogger(level: LogLevel, dest: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  const p: Pino = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return {
    error: (msg, fields) => p.error(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    setLevel: (l) => {
      p.level = l;
    },
  };
}

/** A logger that writes nothing (library use, tests that do not look). */
export const silentLogger: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, setLevel: () => undefined };

// Lines from modules that take a plain `(line) => void` (history, clips, integrations) report
// trouble in these words; everything else they say is routine.
const TROUBLE = /\b(fail\w*|cannot|could not|error|disconnected|retrying|not acknowledged|left from|partial)\b/i;

/** A `(line) => void` for modules that log plain lines: warn for trouble, info otherwise, tagged with the module. */
export function lineLog(logger: Logger): (line: string) => void {
  return (line) => {
    const component = /^([a-z]+)[ :]/.exec(line)?.[1];
    const fields = component ? { component } : {};
    if (TROUBLE.test(line)) logger.warn(line, fields);
    else logger.info(line, fields);
  };
}
