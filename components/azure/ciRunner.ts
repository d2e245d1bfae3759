// The place prod's workflows run from: ephemeral self-hosted GitHub Actions runners inside the VNet, so
// that the API server (authorized ranges: the stack's egress IPs), the private Key Vaults and the
// private registry admit them. An Azure Container Apps job (azure-native app, API version
// 2025-02-02-preview) in its own subnet, delegated to Microsoft.App/environments, started per queued
// workflow job by KEDA's github-runner scaler and gone when that job ends (the runner registers with
// --ephemeral). Its egress leaves through the subnet's NAT gateway or firewall route like the nodes'.
//
// Sources: keda.sh/docs/latest/scalers/github-runner (trigger metadata owner, runnerScope, repos, labels,
// noDefaultLabels, targetWorkflowQueueLength; authentication parameter personalAccessToken) and
// kedacore/keda pkg/scalers/github_runner_scaler.go (canRunnerMatchLabels: a queued job counts only if
// every label it asks for is among the scaler's labels, plus self-hosted, linux and x64 unless
// noDefaultLabels); Microsoft Learn "Deploy self-hosted CI/CD runners and agents with Azure Container
// Apps jobs" (an event-triggered job whose scale rule is github-runner, the token a job secret);
// actions/runner images/Dockerfile (the runner image ships curl, jq and sudo; config.sh and run.sh in
// /home/runner).
//
// The token is a job secret whose value is the Pulumi secret (encrypted in state; ARM returns it only to
// listSecrets, which needs Contributor on the job). Not a Key Vault reference: the app vault has no
// public endpoint and Container Apps is not one of Key Vault's trusted services, and a managed identity
// on the job would also be reachable by every workflow step in the container (IDENTITY_ENDPOINT), which
// could then read the token. The job has no identity at all. Deploying stays with the workflow's OIDC
// federation (azure/login with the GitHub ID token, ARM_USE_OIDC), which a self-hosted runner gets from
// GitHub exactly as a hosted one does.
import * as app from "@pulumi/azure-native/app";
import * as pulumi from "@pulumi/pulumi";

/** The pinned runner image: actions/runner's own (images/Dockerfile), the version of its src/runnerversion. */
const RUNNER_IMAGE = "ghcr.io/actions/actions-runner:2.336.0";
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
    /** Names: the environment and job derive theirs from it (Container Apps names: <= 32 characters). */
    readonly baseName: string;
    /** The runner subnet (delegated to Microsoft.App/environments, egress through the stack's egress). */
    readonly subnetId: pulumi.Input<string>;
    /** owner/name of the GitHub repository the runners serve. */
    readonly repository: string;
    /** The label the prod workflows ask for (runs-on: [self-hosted, <label>]). */
    readonly label: string;
    /** At most this many runners at once. */
    readonly maxRunners: number;
    /** The GitHub token (secret): a job secret, read by the scaler and the runner's start. */
    readonly githubToken: pulumi.Input<string>;
    readonly tags: pulumi.Input<Record<string, string>>;
}

/** The labels each runner registers with, and the only ones: what the workflows' runs-on asks for. */
function runnerLabels(label: string): string[] {
    return ["self-hosted", label];
}

/**
 * KEDA github-runner trigger metadata (keda.sh/docs/latest/scalers/github-runner). KEDA counts a queued
 * job only if every label of its runs-on is among `labels` (canRunnerMatchLabels), so `labels` is the
 * runner's whole set; noDefaultLabels keeps KEDA from adding linux and x64, which the runner does not
 * register (--no-default-labels), so a job asking for them starts nothing.
 */
function runnerScaleMetadata(repository: string, label: string): Record<string, string> {
    const [owner, repo] = repository.split("/");
    return {
        owner,
        runnerScope: "repo",
        repos: repo,
        labels: runnerLabels(label).join(","),
        noDefaultLabels: "true",
        targetWorkflowQueueLength: "1",
    };
}

export class CiRunner extends pulumi.ComponentResource {
    /** ARM ID of the Container Apps job. */
    readonly jobId: pulumi.Output<string>;

    constructor(name: string, args: CiRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:CiRunner", name, {}, opts);
        const common = { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags };

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
                configuration: {
                    triggerType: app.TriggerType.Event,
                    // A prod `up` can take well over an hour (cluster creation, Vault's rollout): 4 h.
                    replicaTimeout: 4 * 3600,
                    // A failed run is a failed workflow job; GitHub does not hand the job to a retry.
                    replicaRetryLimit: 0,
                    secrets: [{ name: TOKEN_SECRET, value: args.githubToken }],
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
                                { name: "RUNNER_LABELS", value: runnerLabels(args.label).join(",") },
                            ],
                            resources: { cpu: 2, memory: "4Gi" },
                        },
                    ],
                },
            },
            { parent: this },
        );
        this.jobId = job.id;
        this.registerOutputs({ jobId: this.jobId });
    }
}
