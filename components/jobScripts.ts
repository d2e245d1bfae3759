// The shell scripts the program's Jobs run live in scripts/ (checked with shellcheck there), never as
// strings in TypeScript. A Job mounts a ConfigMap holding its script and the lib.sh it sources.
import * as fs from "fs";
import * as path from "path";

export const SCRIPTS_DIR = path.join(__dirname, "..", "scripts");
/** The helpers (log, retry) every Job script sources from its own directory. */
export const SCRIPT_LIB = "lib.sh";

/** ConfigMap data for the Job script `file` of scripts/: the script and lib.sh, read at deploy time. */
export function jobScriptFiles(file: string): Record<string, string> {
    const read = (name: string) => fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    return { [file]: read(file), [SCRIPT_LIB]: read(SCRIPT_LIB) };
}
