import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    JOB_ANNOTATIONS,
    JOB_CONTAINER_DEFAULTS,
    JOB_CONTAINER_SECURITY_CONTEXT,
    jobScriptFiles,
    SCRIPTS_DIR,
    secretEnv,
} from "../jobScripts";
import { VAULT_IMAGE } from "../platform/charts";
import { MONGO_DATABASE, VAULT_DB_CREDS_PATH } from "./microservice";
import { POD_LABELS } from "../topology";
import { MONGO_IMAGE, MONGO_PORT, MONGO_SECRET_KEYS } from "./mongodb";

/** The configuration script, kept in the repository and checked with shellcheck and `sh -n`. */
const VAULT_CONFIGURE_SCRIPT_FILE = "vault-configure.sh";
export const VAULT_CONFIGURE_SCRIPT = path.join(SCRIPTS_DIR, VAULT_CONFIGURE_SCRIPT_FILE);

/** The Vault image the Job runs: the same 1.x release as the platform's server, so CLI and server agree. */
const VAULT_CONFIGURE_IMAGE = VAULT_IMAGE;

/** The database secrets engine role the services read credentials from (database/creds/<this>). */
export const VAULT_DB_ROLE = VAULT_DB_CREDS_PATH.split("/").pop() as string;

/**
 * The database engine's username_template (database/config/<connection>):
 * `vdb-<unix_time>-<random 20>-<role>` (sdk/helper/template funcs.go: unix_time is seconds, random is
 * alphanumeric). The plugin's default (hashicorp/vault plugins/database/mongodb/mongodb.go,
 * defaultUserNameTemplate: `v-<display name, 15>-<role, 15>-<random 20>-<unix_time>`) would let the time
 * be read back as well (it is last); this one is set for a prefix of its own and the role name up to 30
 * characters, where the default cuts it to 15 (`microservices-r`), so the cleanup's pattern cannot take
 * another role's users for ours. Dev's reconciler drops the users a lost Vault created (issue 20 item 6).
 */
export const VAULT_DB_USERNAME_TEMPLATE = '{{ printf "vdb-%s-%s-%s" (unix_time) (random 20) (.RoleName | truncate 30) }}';

/**
 * The plugin's default template, which dev's engine used before VAULT_DB_USERNAME_TEMPLATE was set: users
 * made then are matched too, so the first restart after the change cleans them up as well (the same rule:
 * made before a Vault that holds no lease). Its `replace "." "-"` applies to the whole name.
 */
export const VAULT_DB_DEFAULT_USERNAME_TEMPLATE =
    '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | replace "." "-" | truncate 100 }}';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The Kubernetes auth method's mount: scripts/vault-configure.sh enables it at kubernetes/, the agents log in at auth/kubernetes. */
const VAULT_KUBERNETES_AUTH_MOUNT = "kubernetes";

/** The display name of a token Vault's token store issues with no display_name: auth/token/create (the dev root token too). */
const VAULT_TOKEN_DISPLAY_NAME = "token";

/**
 * The display name of a Kubernetes-auth login's token: Vault prefixes the auth method's display name
 * with its mount path, "/" made "-" (hashicorp/vault vault/request_handling.go, LoginCreateToken:
 * `source+auth.DisplayName`), and the Kubernetes method's is `<namespace>-<service account>`
 * (hashicorp/vault-plugin-auth-kubernetes path_login.go, `DisplayName: fmt.Sprintf("%s-%s", ...)`).
 */
export function vaultKubernetesDisplayName(mount: string, namespace: string, serviceAccount: string): string {
    return `${mount.replace(/\/+$/, "").replace(/\//g, "-")}-${namespace}-${serviceAccount}`;
}

/**
 * The regular expression for the users either template gives `dbRole`: VAULT_DB_USERNAME_TEMPLATE's
 * (group 1: the unix time) or the plugin default's (group 2: the unix time).
 *
 * The default (hashicorp/vault v1.21.2 plugins/database/mongodb/mongodb.go, defaultUserNameTemplate,
 * VAULT_DB_DEFAULT_USERNAME_TEMPLATE above; website/content/api-docs/secret/databases/mongodb.mdx gives
 * `v-token-myrolename-jNFRlKsZZMxJEx60o66i-1614294836`) is
 * `v-<display name, 15>-<role, 15>-<random 20>-<unix_time>`, "." made "-". Its parts are matched
 * exactly: the display name is one of `readers` (the display names of the tokens that may read the
 * role: the services' Kubernetes-auth logins, the token store's "token") cut to 15, not any 15
 * characters (which let `v-a-microservices-r-...`, a role "r" read by "a-microservices", or another
 * namespace's `v-kubernetes-othe-...`, pass). The role is cut to 15 there, so a role of the engine
 * sharing our first 15 characters (`microservices-reader` beside `microservices-role`) makes users that
 * no name tells apart: then the default's users are not matched at all (never drop another role's
 * users), and the same for our template's 30. `engineRoles`: every role the engine holds that the
 * caller knows of (scripts/vault-configure.sh writes database/roles/DB_ROLE only). The display name's 15
 * characters keep only 4 of a Kubernetes login's namespace (`kubernetes-micr`): any namespace starting
 * so matches. Both limits are stated in docs/operations.md ("Restart dev's Vault").
 */
export function vaultDbUsernamePattern(dbRole: string, readers: readonly string[], engineRoles: readonly string[] = [dbRole]): string {
    const others = engineRoles.filter((role) => role !== dbRole);
    const clash = (n: number) => others.some((role) => role.slice(0, n) === dbRole.slice(0, n));
    if (clash(30)) throw new Error(`database role ${dbRole}: another role of the engine shares its first 30 characters`);
    const ours = `vdb-([0-9]+)-[A-Za-z0-9]{20}-${escapeRegExp(dbRole.slice(0, 30))}`;
    if (clash(15) || readers.length === 0) return `^(?:${ours})$`;
    const dash = (text: string) => text.replace(/\./g, "-");
    const names = [...new Set(readers.map((reader) => escapeRegExp(dash(reader.slice(0, 15)))))].sort();
    const theirs = `v-(?:${names.join("|")})-${escapeRegExp(dash(dbRole.slice(0, 15)))}-[A-Za-z0-9]{20}-([0-9]+)`;
    return `^(?:${ours}|${theirs})$`;
}

/** Dev's reconciler: the scripts of its mongo-users container (drops the users a lost Vault created). */
export const MONGO_STALE_USERS_SCRIPT_FILE = "mongo-stale-users.sh";
export const MONGO_STALE_USERS_JS_FILE = "mongo-stale-users.js";

/** TTLs of the issued MongoDB users, per the lab: 1h, renewable up to 24h. */
const VAULT_DB_TTLS = { defaultTtl: "1h", maxTtl: "24h" } as const;

/** Where the Job mounts its projected Vault-audience token, and Vault's CA. */
const TOKEN_DIR = "/var/run/secrets/vault";
const CA_DIR = "/vault/ca";

/** The user the Job runs as: any non-root UID works, the vault binary and the script are world-executable. */
const JOB_UID = 1000;

/** One service that reads MongoDB credentials: its Vault policy/role name and Kubernetes service account. */
export interface VaultServiceBinding {
    /** Vault policy and Kubernetes-auth role name, e.g. product-service. */
    readonly role: string;
    /** Service account the service's pods run as, in the app namespace. */
    readonly serviceAccount: string;
}

/** A key of a Kubernetes Secret in Vault's namespace. */
export interface SecretKeyRef {
    /** Secret name. */
    readonly name: pulumi.Input<string>;
    /** Key within the Secret. */
    readonly key: pulumi.Input<string>;
}

export interface VaultDatabaseConfigArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Vault's namespace: where the Job, its script and its copy of the MongoDB credentials live. */
    readonly vaultNamespace: pulumi.Input<string>;
    /** Vault API address, e.g. http://vault.vault.svc.cluster.local:8200. */
    readonly vaultAddress: pulumi.Input<string>;
    /**
     * How the Job authenticates: a token from a Secret (in vaultNamespace; the dev server's), or
     * Kubernetes auth as `role`, running as `serviceAccountName` with a projected token of `audience`.
     */
    readonly auth:
        | { readonly kind: "token"; readonly secret: SecretKeyRef }
        | {
              readonly kind: "kubernetes";
              readonly role: string;
              readonly serviceAccountName: pulumi.Input<string>;
              readonly audience: string;
          };
    /** Secret (in vaultNamespace) and key of the CA an https Vault is verified against. Default none (http). */
    readonly caSecret?: SecretKeyRef;
    /** The audience the services' Kubernetes-auth roles require of their agents' tokens. Default none. */
    readonly appTokenAudience?: string;
    /** MongoDB service host, e.g. mongodb.<app namespace>.svc.cluster.local. */
    readonly mongoHost: pulumi.Input<string>;
    /** MongoDB port. Default: 27017. */
    readonly mongoPort?: number;
    /** MongoDB root user name (from the MongoDB component's Secret). */
    readonly mongoUsername: pulumi.Input<string>;
    /** MongoDB root password: treated as secret however it arrives. */
    readonly mongoPassword: pulumi.Input<string>;
    /** Namespace the services run in; their Kubernetes-auth roles are bound to it. */
    readonly appNamespace: pulumi.Input<string>;
    /** Services that read credentials, each bound to its own service account. */
    readonly services: readonly VaultServiceBinding[];
    /** Database the issued users get readWrite on. Default: microservices. */
    readonly database?: string;
    /** Database secrets engine role. Default: microservices-role. */
    readonly dbRole?: string;
    /** TTL of an issued MongoDB user. Default: 1h. */
    readonly defaultTtl?: string;
    /** Longest a MongoDB user's lease can be renewed to. Default: 24h. */
    readonly maxTtl?: string;
    /** Image with the vault CLI and a POSIX sh. Default: VAULT_CONFIGURE_IMAGE. */
    readonly image?: string;
    /** Minutes Pulumi waits for the Job to complete. Default: 20. */
    readonly timeoutMinutes?: number;
    /** What must be running first: the Vault release (and its initialisation) and MongoDB. Default none. */
    readonly after?: readonly pulumi.Resource[];
    /** What the authentication needs first: the token's Secret, or the service account and its role. Default none. */
    readonly authReady?: readonly pulumi.Resource[];
    /**
     * Keep configuring: a Deployment that re-applies the configuration whenever Vault no longer holds
     * it, checking every this many seconds (a dev-mode Vault forgets everything on restart). Default: none,
     * a Job that configures once (a Vault with storage keeps its configuration).
     */
    readonly reconcileSeconds?: number;
}

/** The non-secret settings the script receives; their hash names the Job. */
export interface VaultConfigureSettings {
    readonly script: string;
    readonly image: string;
    readonly vaultAddress: string;
    readonly mongoHost: string;
    readonly mongoPort: number;
    readonly mongoUsername: string;
    readonly appNamespace: string;
    readonly services: readonly VaultServiceBinding[];
    readonly database: string;
    readonly dbRole: string;
    readonly defaultTtl: string;
    readonly maxTtl: string;
    /** "token:<secret>/<key>" or "kubernetes:<role>:<serviceaccount>:<audience>", plus the CA's Secret. */
    readonly auth: string;
    readonly caSecret: string;
    readonly appTokenAudience: string;
}

/** A short, stable hash of everything that changes what the Job does (the MongoDB password excepted). */
export function configHash(settings: VaultConfigureSettings): string {
    return createHash("sha256").update(JSON.stringify(settings)).digest("hex").slice(0, 10);
}

/** The SERVICES value the script reads: space-separated <role>:<serviceaccount> pairs. */
function servicesEnv(services: readonly VaultServiceBinding[]): string {
    return services.map((s) => `${s.role}:${s.serviceAccount}`).join(" ");
}

/**
 * Configures Vault's Kubernetes auth and the MongoDB database secrets engine, running
 * scripts/vault-configure.sh in the Vault image: once, as a Job (a Vault with storage), or, with
 * reconcileSeconds, as a one-pod Deployment that configures Vault again whenever it comes back empty
 * (a dev-mode Vault). The script is idempotent, so re-running it on a configured Vault is harmless.
 */
export class VaultDatabaseConfig extends pulumi.ComponentResource {
    /** Name of the Job (changes whenever the script or a setting does), or of the reconciling Deployment. */
    readonly jobName: pulumi.Output<string>;
    /** Vault path the services read MongoDB credentials from. */
    readonly credsPath: string;
    /** Vault Kubernetes-auth role per service. */
    readonly roles: readonly string[];

    constructor(name: string, args: VaultDatabaseConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:VaultDatabaseConfig", name, {}, opts);
        const child = { parent: this, provider: args.provider };

        // The script and lib.sh: both go into the ConfigMap and into the hash that names the Job.
        const reconcile = args.reconcileSeconds !== undefined;
        const scriptFiles = {
            ...jobScriptFiles(VAULT_CONFIGURE_SCRIPT_FILE),
            ...(reconcile
                ? {
                      ...jobScriptFiles(MONGO_STALE_USERS_SCRIPT_FILE),
                      [MONGO_STALE_USERS_JS_FILE]: fs.readFileSync(path.join(SCRIPTS_DIR, MONGO_STALE_USERS_JS_FILE), "utf8"),
                  }
                : {}),
        };
        const script = Object.values(scriptFiles).join("\n");
        const services = args.services;
        const dbRole = args.dbRole ?? VAULT_DB_ROLE;
        const database = args.database ?? MONGO_DATABASE;
        const defaultTtl = args.defaultTtl ?? VAULT_DB_TTLS.defaultTtl;
        const maxTtl = args.maxTtl ?? VAULT_DB_TTLS.maxTtl;
        const mongoPort = args.mongoPort ?? MONGO_PORT;
        const image = args.image ?? VAULT_CONFIGURE_IMAGE;
        const labels = { ...POD_LABELS.vaultConfigure, "app.kubernetes.io/instance": name };

        // Secret references only work within the pod's namespace, and MongoDB's Secret lives in the app
        // namespace: keep a copy of the root credentials beside the Job.
        const mongoCredentials = new k8s.core.v1.Secret(
            `${name}-mongo`,
            {
                metadata: { name: `${name}-mongo`, namespace: args.vaultNamespace, labels },
                type: "Opaque",
                stringData: {
                    [MONGO_SECRET_KEYS.username]: args.mongoUsername,
                    [MONGO_SECRET_KEYS.password]: pulumi.secret(args.mongoPassword),
                },
            },
            child,
        );

        // A Job's pod template is immutable and a completed Job never runs again, so a changed setting
        // must create a new Job. Its name carries a hash of the script and every (non-secret) setting:
        // any change gives a new name, which Pulumi handles as a replacement (create the new Job, wait
        // for it, delete the old one), and an unchanged program keeps the completed Job as it is. The
        // MongoDB password is left out of the hash (and the name) on purpose: MongoDB only reads it when
        // its volume is first initialised, so it does not change under a running database.
        const auth = args.auth;
        const authText =
            auth.kind === "token"
                ? pulumi.interpolate`token:${auth.secret.name}/${auth.secret.key}`
                : pulumi.interpolate`kubernetes:${auth.role}:${auth.serviceAccountName}:${auth.audience}`;
        const caText = args.caSecret ? pulumi.interpolate`${args.caSecret.name}/${args.caSecret.key}` : pulumi.output("");
        const settings = pulumi
            .all([args.vaultAddress, args.mongoHost, args.mongoUsername, args.appNamespace, authText, caText])
            .apply(([vaultAddress, mongoHost, mongoUsername, appNamespace, authSetting, caSetting]): VaultConfigureSettings => ({
                script,
                image,
                vaultAddress,
                mongoHost,
                mongoPort,
                mongoUsername,
                appNamespace,
                services,
                database,
                dbRole,
                defaultTtl,
                maxTtl,
                auth: authSetting,
                caSecret: caSetting,
                appTokenAudience: args.appTokenAudience ?? "",
            }));
        const jobName = settings.apply((s) => `${name}-${configHash(s)}`);

        // Named like the Job: a changed script gives a new ConfigMap beside the old one, which the old
        // Job keeps mounting until Pulumi deletes it after the new Job has completed.
        const scriptMap = new k8s.core.v1.ConfigMap(
            `${name}-script`,
            { metadata: { name: jobName, namespace: args.vaultNamespace, labels }, data: scriptFiles },
            child,
        );

        const readyFile = "/tmp/configured";
        // The configure container hands the cut-off time of stale MongoDB users to the mongo-users one.
        const staleUsersFile = "/handoff/stale-before";
        const container: k8s.types.input.core.v1.Container = {
            name: "configure",
            image,
            command: ["/bin/sh", "/scripts/vault-configure.sh"],
            ...JOB_CONTAINER_DEFAULTS,
            env: [
                { name: "VAULT_ADDR", value: args.vaultAddress },
                ...(auth.kind === "token"
                    ? [secretEnv("VAULT_TOKEN", auth.secret.name, auth.secret.key)]
                    : [
                          { name: "VAULT_AUTH_ROLE", value: auth.role },
                          { name: "VAULT_AUTH_JWT_FILE", value: `${TOKEN_DIR}/token` },
                      ]),
                ...(args.caSecret ? [{ name: "VAULT_CACERT", value: pulumi.interpolate`${CA_DIR}/${args.caSecret.key}` }] : []),
                { name: "MONGO_HOST", value: args.mongoHost },
                { name: "MONGO_PORT", value: String(mongoPort) },
                secretEnv("MONGO_USERNAME", mongoCredentials.metadata.name, MONGO_SECRET_KEYS.username),
                secretEnv("MONGO_PASSWORD", mongoCredentials.metadata.name, MONGO_SECRET_KEYS.password),
                { name: "APP_NAMESPACE", value: args.appNamespace },
                ...(args.appTokenAudience ? [{ name: "APP_TOKEN_AUDIENCE", value: args.appTokenAudience }] : []),
                { name: "SERVICES", value: servicesEnv(services) },
                { name: "DB_NAME", value: database },
                { name: "DB_ROLE", value: dbRole },
                { name: "DEFAULT_TTL", value: defaultTtl },
                { name: "MAX_TTL", value: maxTtl },
                { name: "USERNAME_TEMPLATE", value: VAULT_DB_USERNAME_TEMPLATE },
                // The vault CLI keeps nothing there with VAULT_TOKEN set, but wants a HOME.
                { name: "HOME", value: "/tmp" },
                ...(reconcile
                    ? [
                          { name: "RECONCILE_SECONDS", value: String(args.reconcileSeconds) },
                          { name: "READY_FILE", value: readyFile },
                          { name: "STALE_USERS_FILE", value: staleUsersFile },
                      ]
                    : []),
            ],
            resources: {
                requests: { cpu: "50m", memory: "64Mi" },
                limits: { cpu: "200m", memory: "128Mi" },
            },
            securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
            // Ready while Vault holds the configuration: `pulumi up` waits for the first one, and pods
            // reading credentials wait for it through the services' dependsOn.
            readinessProbe: reconcile ? { exec: { command: ["test", "-f", readyFile] }, periodSeconds: 5 } : undefined,
            volumeMounts: [
                { name: "script", mountPath: "/scripts", readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                ...(auth.kind === "kubernetes" ? [{ name: "vault-token", mountPath: TOKEN_DIR, readOnly: true }] : []),
                ...(args.caSecret ? [{ name: "vault-ca", mountPath: CA_DIR, readOnly: true }] : []),
                ...(reconcile ? [{ name: "handoff", mountPath: "/handoff" }] : []),
            ],
        };
        // Dev's reconciler: drops the MongoDB users a Vault that lost its memory created (issue 20 item 6).
        const mongoUsers: k8s.types.input.core.v1.Container = {
            name: "mongo-users",
            image: MONGO_IMAGE,
            command: ["/bin/sh", `/scripts/${MONGO_STALE_USERS_SCRIPT_FILE}`],
            ...JOB_CONTAINER_DEFAULTS,
            env: [
                { name: "STALE_USERS_FILE", value: staleUsersFile },
                {
                    name: "USERNAME_PATTERN",
                    value: pulumi.output(args.appNamespace).apply((ns) =>
                        // engineRoles: the roles this program defines (scripts/vault-configure.sh writes
                        // database/roles/DB_ROLE only). A role added by hand to dev's in-memory Vault
                        // is gone when the reconciler runs (after a restart), so no runtime list could
                        // include it; docs/operations.md, "Restart dev's Vault", says what the name
                        // alone cannot tell apart.
                        vaultDbUsernamePattern(
                            dbRole,
                            [
                                VAULT_TOKEN_DISPLAY_NAME,
                                ...services.map((s) => vaultKubernetesDisplayName(VAULT_KUBERNETES_AUTH_MOUNT, ns, s.serviceAccount)),
                            ],
                            [dbRole],
                        ),
                    ),
                },
                { name: "MONGO_HOST", value: args.mongoHost },
                { name: "MONGO_PORT", value: String(mongoPort) },
                secretEnv("MONGO_USERNAME", mongoCredentials.metadata.name, MONGO_SECRET_KEYS.username),
                secretEnv("MONGO_PASSWORD", mongoCredentials.metadata.name, MONGO_SECRET_KEYS.password),
                { name: "CHECK_INTERVAL_SECONDS", value: String(args.reconcileSeconds ?? 30) },
                // mongosh keeps its history and config under HOME.
                { name: "HOME", value: "/tmp" },
            ],
            resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
            securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
            volumeMounts: [
                { name: "script", mountPath: "/scripts", readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                { name: "handoff", mountPath: "/handoff" },
            ],
        };
        const podSpec: k8s.types.input.core.v1.PodSpec = {
            restartPolicy: reconcile ? "Always" : "Never",
            // It talks to Vault only; Vault reviews tokens with its own account. With Kubernetes auth it
            // projects a token of Vault's audience only (short-lived), never the API server's.
            serviceAccountName: auth.kind === "kubernetes" ? auth.serviceAccountName : undefined,
            automountServiceAccountToken: false,
            securityContext: {
                runAsNonRoot: true,
                runAsUser: JOB_UID,
                runAsGroup: 1000,
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: reconcile ? [container, mongoUsers] : [container],
            volumes: [
                { name: "script", configMap: { name: scriptMap.metadata.name, defaultMode: 0o555 } },
                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                ...(auth.kind === "kubernetes"
                    ? [
                          {
                              name: "vault-token",
                              projected: {
                                  sources: [{ serviceAccountToken: { audience: auth.audience, expirationSeconds: 600, path: "token" } }],
                              },
                          },
                      ]
                    : []),
                ...(args.caSecret ? [{ name: "vault-ca", secret: { secretName: args.caSecret.name } }] : []),
                ...(reconcile ? [{ name: "handoff", emptyDir: { medium: "Memory" as const, sizeLimit: "1Mi" } }] : []),
            ],
        };
        // A sidecar would never exit and keep the finished Job's pod running.
        // POD_LABELS.vaultConfigure: what the network policies select; POD_LABELS.vaultReconciler, on dev's
        // reconciler only, is what the flow to MongoDB selects (prod's Job never reaches MongoDB itself).
        // Pod template labels only: the Deployment's selector stays `labels`, so adding them is no replacement.
        const podMetadata = {
            labels: {
                ...labels,
                ...POD_LABELS.vaultConfigure,
                ...(reconcile ? POD_LABELS.vaultReconciler : {}),
                "sidecar.istio.io/inject": "false",
            },
        };
        // The token's Secret (or the SecretProviderClass that creates it) must exist before the pod.
        const dependsOn = [...(args.after ?? []), ...(args.authReady ?? [])];
        const timeout = `${args.timeoutMinutes ?? 20}m`;

        let workload: k8s.batch.v1.Job | k8s.apps.v1.Deployment;
        if (reconcile) {
            // Named like the Job; a changed setting rolls the one pod, which configures Vault again.
            workload = new k8s.apps.v1.Deployment(
                name,
                {
                    metadata: { name, namespace: args.vaultNamespace, labels },
                    spec: {
                        replicas: 1,
                        selector: { matchLabels: labels },
                        strategy: { type: "Recreate" },
                        template: { metadata: podMetadata, spec: podSpec },
                    },
                },
                { ...child, dependsOn, customTimeouts: { create: timeout, update: timeout } },
            );
        } else {
            workload = new k8s.batch.v1.Job(
                name,
                {
                    metadata: { name: jobName, namespace: args.vaultNamespace, labels, annotations: JOB_ANNOTATIONS },
                    spec: {
                        backoffLimit: 4,
                        activeDeadlineSeconds: 1200,
                        // No ttlSecondsAfterFinished: Kubernetes would delete the completed Job, a later
                        // `pulumi refresh` would drop it from state and the next `up` would create it
                        // again. A completed Job costs one API object and its finished pod (whose log
                        // stays readable); Pulumi deletes it when a changed setting replaces it.
                        template: { metadata: podMetadata, spec: podSpec },
                    },
                },
                {
                    ...child,
                    // Belt and braces with the hashed name: any change to the spec replaces the Job rather
                    // than attempting an update the API server would refuse.
                    replaceOnChanges: ["spec"],
                    dependsOn,
                    customTimeouts: { create: timeout, update: timeout },
                },
            );
        }

        this.jobName = workload.metadata.name;
        this.credsPath = `database/creds/${dbRole}`;
        this.roles = services.map((s) => s.role);
        this.registerOutputs({ jobName: this.jobName, credsPath: this.credsPath, roles: this.roles });
    }
}
