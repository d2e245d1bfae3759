// Structured JSON logs on pino, one object per line on stdout, with every secret the process knows
// masked. The masking is pino's `hooks.streamWrite` (pinojs/pino lib/proto.js, write(): the hook gets
// the finished, serialized line just before it goes to the stream), so it covers every field, nested
// objects, error stacks and Fastify's own lines, and the JSON escaping of each secret.
import pino from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where finished log lines go. Default: stdout. */
export type LogSink = (line: string) => void;

const MASK = "***";
// The user-info part of any URL-like string: scheme://user:password@ (a MongoDB connection string).
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']*@/gi;

/**
 * Masks known secrets and the credentials of any URL in `text`. Known secrets are masked first, so a
 * password is hidden even where it appears outside a URL (an error message quoting it).
 */
export function redact(text: string, secrets: Iterable<string> = []): string {
    let out = text;
    for (const secret of secrets) if (secret) out = out.split(secret).join(MASK);
    return out.replace(URL_CREDENTIALS, `$1${MASK}@`);
}

function isLogLevel(value: string | undefined): value is LogLevel {
    return value !== undefined && value in LEVELS;
}

/** The level named by LOG_LEVEL, info when unset or unknown. */
export function logLevelFrom(value: string | undefined): LogLevel {
    const level = value?.toLowerCase();
    return isLogLevel(level) ? level : "info";
}

/** An Error as plain fields for a log line: name, message, code and stack, all redacted by the logger. */
export function errorFields(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error)) return { error: String(error) };
    const code = (error as { code?: unknown }).code;
    return {
        error: { name: error.name, message: error.message, ...(code === undefined ? {} : { code }), stack: error.stack },
    };
}

export class Logger {
    private readonly secrets: Set<string>;
    /** The pino logger behind this one (Fastify logs through it, so its lines are masked too). */
    readonly pino: pino.Logger;

    constructor(
        fields: Readonly<Record<string, unknown>>,
        level: LogLevel = "info",
        sink: LogSink = (line) => process.stdout.write(`${line}\n`),
        secrets?: Set<string>,
        parent?: pino.Logger,
    ) {
        this.secrets = secrets ?? new Set();
        if (parent) {
            this.pino = parent.child(fields);
            return;
        }
        const known = this.secrets;
        this.pino = pino(
            {
                level,
                // No pid and hostname: the pod's name is on the log record already; `service` instead.
                base: { ...fields },
                messageKey: "msg",
                timestamp: pino.stdTimeFunctions.isoTime,
                formatters: { level: (label) => ({ level: label }) },
                hooks: {
                    streamWrite: (line) => {
                        const escaped = [...known].flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
                        return redact(line, escaped);
                    },
                },
            },
            { write: (line: string) => sink(line.endsWith("\n") ? line.slice(0, -1) : line) },
        );
    }

    /** A logger that adds `fields` to every line; it shares this one's secrets. */
    child(fields: Record<string, unknown>): Logger {
        return new Logger(fields, undefined, undefined, this.secrets, this.pino);
    }

    /** Masks `value` wherever it appears in later lines of this logger and all its relatives. */
    addSecret(value: string): void {
        if (value) this.secrets.add(value);
    }

    debug(msg: string, fields?: Record<string, unknown>): void {
        this.pino.debug(fields ?? {}, msg);
    }
    info(msg: string, fields?: Record<string, unknown>): void {
        this.pino.info(fields ?? {}, msg);
    }
    warn(msg: string, fields?: Record<string, unknown>): void {
        this.pino.warn(fields ?? {}, msg);
    }
    error(msg: string, fields?: Record<string, unknown>): void {
        this.pino.error(fields ?? {}, msg);
    }
}
