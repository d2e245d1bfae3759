// Structured JSON logs, one object per line on stdout, with every secret the process knows masked.

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

    constructor(
        private readonly fields: Readonly<Record<string, unknown>>,
        private readonly level: LogLevel = "info",
        private readonly sink: LogSink = (line) => process.stdout.write(`${line}\n`),
        secrets?: Set<string>,
    ) {
        this.secrets = secrets ?? new Set();
    }

    /** A logger that adds `fields` to every line; it shares this one's secrets. */
    child(fields: Record<string, unknown>): Logger {
        return new Logger({ ...this.fields, ...fields }, this.level, this.sink, this.secrets);
    }

    /** Masks `value` wherever it appears in later lines of this logger and all its relatives. */
    addSecret(value: string): void {
        if (value) this.secrets.add(value);
    }

    debug(msg: string, fields?: Record<string, unknown>): void {
        this.write("debug", msg, fields);
    }
    info(msg: string, fields?: Record<string, unknown>): void {
        this.write("info", msg, fields);
    }
    warn(msg: string, fields?: Record<string, unknown>): void {
        this.write("warn", msg, fields);
    }
    error(msg: string, fields?: Record<string, unknown>): void {
        this.write("error", msg, fields);
    }

    private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
        if (LEVELS[level] < LEVELS[this.level]) return;
        const line = JSON.stringify({ time: new Date().toISOString(), level, ...this.fields, msg, ...fields });
        // Redacting the serialized line covers every nested field and the JSON escaping of each secret.
        const escaped = [...this.secrets].flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
        this.sink(redact(line, escaped));
    }
}
