// The place prod's workflows run from: ephemeral self-hosted GitHub Actions runners inside the VNet, so
// that the API server (authorized ranges: the stack's egress IPs), the private Key Vaults and the
// private registry admit them. An Azure Container Apps job (azure-native app, API version
// 2025-02-02-preview) in its own subnet, delegated to Microsoft.App/environments, started per queued
// workflow job by KEDA's github-runner scaler and gone when that job ends (the runner registers with
// --ephemeral). Its egress leaves through the subnet's NAT gateway or firewall route like the nodes'.
//
// Sources: keda.sh/docs/latest/scalers/github-runner (trigger metadata owner, runnerScope, repos, labels,
// targetWorkflowQueueLength; authentication parameter personalAccessToken); Microsoft Learn
// "Deploy self-hosted CI/CD runners and agents with Azure Container Apps jobs" (an event-triggered job
// whose scale rule is github-runner, the token a job secret); MicrosoftDocs/azure-docs
// articles/container-apps/manage-secrets.md (a secret with keyVaultUrl and identity: a Key Vault
// reference read with that managed identity, which needs Key Vault Secrets User); actions/runner
// images/Dockerfile (the runner image ships curl, jq and sudo; config.sh and run.sh in /home/runner).
//
// The runner's own identity only reads its registration token. Deploying stays with the workflow's
// OIDC federation (azure/login with the GitHub ID token, ARM_USE_OIDC), which a self-hosted runner
// gets from GitHub exactly as a hosted one does.
import * as app from "@pulumi/azure-native/app";
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import { keyVaultItemOptions, type KeyVault } from "./keyVault";
import { KEY_VAULT_SECRETS_USER, roleDefinitionId } from "./roles";

/** The pinned runner image: actions/runner's own (images/Dockerfile), the version of its src/runnerversion. */
export const RUNNER_IMAGE = "ghcr.io/actions/actions-runner:2.336.0";
/** The job secret holding the GitHub token (scale rule auth and the container's env read it by this name). */
const TOKEN_SECRET = "github-token";

/**
 * The container's start: a registration token from the GitHub API (POST
 * /repos/{owner}/{repo}/actions/runners/registration-token, which needs a token with the repository's
 * Administration write permission), then one ephemeral run. The Azure CLI, which azure/login calls, is
 * installed first when the image lacks it.
 */
export const RUNNER_SCRIPT = [
    "set -euo pipefail",
    "if ! command -v az >/dev/null; then curl -fsSL https://aka.ms/InstallAzureCLIDeb | sudo bash >/dev/null; fi",
    'registration=$(curl -fsSL -X POST -H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json" ' +
        '"https://api.github.com/repos/$GITHUB_REPOSITORY/actions/runners/registration-token" | jq -r .token)',
    "unset GITHUB_TOKEN",
    './config.sh --unattended --ephemeral --url "https://github.com/$GITHUB_REPOSITORY" --token "$registration" ' +
        '--labels "$RUNNER_LABELS" --name "$HOSTNAME" --no-default-labels',
    "exec ./run.sh",
].join("\n");

export interface CiRunnerArgs {
    /** Resource group and region. */
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: pulumi.Input<string>;
    /** Names: the environment, job and identity derive theirs from it (Container Apps names: <= 32 characters). */
    readonly baseName: string;
    /** The runner subnet (delegated to Microsoft.App/environments, egress through the stack's egress). */
    readonly subnetId: pulumi.Input<string>;
    /** owner/name of the GitHub repository the runners serve. */
    readonly repository: string;
    /** The label the prod workflows ask for (runs-on: [self-hosted, <label>]). */
    readonly label: string;
    /** At most this many runners at once. */
    readonly maxRunners: number;
    /** The GitHub token (secret): stored in Key Vault, read by the job through its identity. */
    readonly githubToken: pulumi.Input<string>;
    /** The Key Vault the token is kept in (RBAC), and its name once reachable (private endpoint ready). */
    readonly vault: KeyVault;
    readonly vaultName: pulumi.Input<string>;
    /** Whether the stack protects its vaults' items (prod): see keyVaultItemOptions. */
    readonly protect: boolean;
    /** Subscription of the role definition IDs. */
    readonly subscriptionId: pulumi.Input<string>;
    readonly tags: pulumi.Input<Record<string, string>>;
}

/** KEDA github-runner trigger metadata (keda.sh/docs/latest/scalers/github-runner). */
export function runnerScaleMetadata(repository: string, label: string): Record<string, string> {
    const [owner, repo] = repository.split("/");
    return {
        owner,
        runnerScope: "repo",
        repos: repo,
        labels: label,
        // Only jobs that ask for this label start a runner: not the default self-hosted, linux, x64.
        noDefaultLabels: "true",
        targetWorkflowQueueLength: "1",
    };
}

export class CiRunner extends pulumi.ComponentResource {
    /** ARM ID of the Container Apps job. */
    readonly jobId: pulumi.Output<string>;
    /** The runner identity's principal: what it may do is read the token secret, nothing more. */
    readonly principalId: pulumi.Output<string>;

    constructor(name: string, args: CiRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:CiRunner", name, {}, opts);
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };

        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-id`,
            { ...common, resourceName: `id-${args.baseName}` },
            { parent: this },
        );
        // Never deleted through the vault's data plane (private in prod): keyVaultItemOptions says why.
        const secret = new keyvault.Secret(
            `${name}-token`,
            {
                resourceGroupName: args.resourceGroupName,
                vaultName: args.vaultName,
                secretName: "github-runner-token",
                properties: { value: args.githubToken, contentType: "GitHub token for runner registration and the KEDA scaler" },
                tags: args.tags,
            },
            { parent: this, ...keyVaultItemOptions(args.vault, args.protect) },
        );
        const reader = new authorization.RoleAssignment(
            `${name}-token-reader`,
            {
                principalId: identity.principalId,
                principalType: authorization.PrincipalType.ServicePrincipal,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((sub) => roleDefinitionId(sub, KEY_VAULT_SECRETS_USER)),
                scope: secret.id,
            },
            { parent: this },
        );

        const environment = new app.ManagedEnvironment(
            `${name}-env`,
            {
                ...common,
                environmentName: `cae-${args.baseName}`,
                // A workload-profiles environment: the kind whose subnet takes a NAT gateway or a route to a
                // firewall, delegated to Microsoft.App/environments.
                workloadProfiles: [{ name: "Consumption", workloadProfileType: "Consumption" }],
                // internal: no public ingress (the runners take none; they poll GitHub).
                vnetConfiguration: { infrastructureSubnetId: args.subnetId, internal: true },
                publicNetworkAccess: "Disabled",
            },
            { parent: this },
        );

        const job = new app.Job(
            `${name}-job`,
            {
                ...common,
                jobName: `caj-${args.baseName}`,
                environmentId: environment.id,
                workloadProfileName: "Consumption",
                identity: { type: app.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
                configuration: {
                    triggerType: app.TriggerType.Event,
                    // A prod `up` can take well over an hour (cluster creation, Vault's rollout): 4 h.
                    replicaTimeout: 4 * 3600,
                    // A failed run is a failed workflow job; GitHub does not hand the job to a retry.
                    replicaRetryLimit: 0,
                    secrets: [{ name: TOKEN_SECRET, keyVaultUrl: secret.properties.apply((p) => p.secretUri), identity: identity.id }],
                    eventTriggerConfig: {
                        parallelism: 1,
                        replicaCompletionCount: 1,
                        scale: {
                            minExecutions: 0,
                            maxExecutions: args.maxRunners,
                            pollingInterval: 30,
                            rules: [
                                {
                                    name: "github-runner",
                                    type: "github-runner",
                                    metadata: runnerScaleMetadata(args.repository, args.label),
                                    auth: [{ triggerParameter: "personalAccessToken", secretRef: TOKEN_SECRET }],
                                },
                            ],
                        },
                    },
                },
                template: {
                    containers: [
                        {
                            name: "runner",
                            image: RUNNER_IMAGE,
                            command: ["/bin/bash", "-c"],
                            args: [RUNNER_SCRIPT],
                            env: [
                                { name: "GITHUB_TOKEN", secretRef: TOKEN_SECRET },
                                { name: "GITHUB_REPOSITORY", value: args.repository },
                                { name: "RUNNER_LABELS", value: `self-hosted,${args.label}` },
                            ],
                            resources: { cpu: 2, memory: "4Gi" },
                        },
                    ],
                },
            },
            // The job reads the secret at start: the identity's role must exist first.
            { parent: this, dependsOn: [reader] },
        );
        this.jobId = job.id;
        this.principalId = identity.principalId;
        this.registerOutputs({ jobId: this.jobId, principalId: this.principalId });
    }
}
