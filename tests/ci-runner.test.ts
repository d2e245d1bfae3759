// Where prod's workflows run (issue 17 item 4): ephemeral self-hosted runners inside the VNet, an Azure
// Container Apps job started by KEDA's github-runner scaler. Expectations come from the provider's
// schema (node_modules/@pulumi/azure-native app Job and ManagedEnvironment), KEDA's scaler docs
// (keda.sh/docs/latest/scalers/github-runner), Container Apps' subnet rules and the workflows.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { RUNNER_SCRIPT } from "../components/azure/ciRunner";
import { checkDeployable, parseConfig } from "../components/config";
import { cidrWithin } from "../components/config/validators";
import { configProblems, DEV_NAT, evaluateStack, isSecretValue, PROJECT, ROOT, stackRaw, type StackRun, withOverrides } from "./harness";
import { rawString } from "./configRaw";

const T = {
    env: "azure-native:app:ManagedEnvironment",
    job: "azure-native:app:Job",
    vnet: "azure-native:network:VirtualNetwork",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    role: "azure-native:authorization:RoleAssignment",
    cluster: "azure-native:containerservice:ManagedCluster",
};
const LABEL = "aks-platform-prod";
/**
 * Whether KEDA's github-runner scaler counts a queued job with these runs-on labels (kedacore/keda
 * pkg/scalers/github_runner_scaler.go canRunnerMatchLabels: the scaler's labels, plus self-hosted, linux
 * and x64 unless noDefaultLabels; every label of the job, case-insensitively, must be among them).
 */
function kedaCounts(jobLabels: readonly string[], metadata: Record<string, string>): boolean {
    const labels = metadata.labels.split(",").map((l) => l.trim().toLowerCase());
    if (metadata.noDefaultLabels !== "true") labels.push("self-hosted", "linux", "x64");
    return jobLabels.every((l) => labels.includes(l.toLowerCase()));
}
const workflow = (file: string) => parse(fs.readFileSync(path.join(ROOT, ".github/workflows", file), "utf8"));

describe("CI runner in the VNet (prod)", () => {
    let run: StackRun;
    before(async () => (run = await evaluateStack("prod")));

    it("has its own subnet, delegated to Microsoft.App/environments, egressing like the nodes, inside the VNet", () => {
        const vnet = run.ofType(T.vnet)[0];
        const subnet = vnet.inputs.subnets.find((s: { name: string }) => s.name === "snet-runner");
        assert.ok(subnet, "a runner subnet");
        assert.deepEqual(
            subnet.delegations.map((d: { serviceName: string }) => d.serviceName),
            ["Microsoft.App/environments"],
        );
        // A workload-profiles environment needs at least a /27.
        assert.ok(Number(subnet.addressPrefix.split("/")[1]) <= 27);
        assert.ok(cidrWithin(subnet.addressPrefix, vnet.inputs.addressSpace.addressPrefixes[0]));
        const system = vnet.inputs.subnets.find((s: { name: string }) => s.name === "snet-system");
        assert.deepEqual(subnet.natGateway, system.natGateway, "the same egress as the nodes (so the authorized ranges admit it)");
        assert.deepEqual(subnet.routeTable, system.routeTable);
    });

    it("runs a workload-profiles environment in that subnet, internal, with no public access", () => {
        const env = run.ofType(T.env)[0];
        const vnet = run.ofType(T.vnet)[0];
        assert.equal(env.inputs.vnetConfiguration.infrastructureSubnetId, `${vnet.id}/subnets/snet-runner`);
        assert.equal(env.inputs.vnetConfiguration.internal, true);
        assert.equal(env.inputs.publicNetworkAccess, "Disabled");
        assert.deepEqual(env.inputs.workloadProfiles, [{ name: "Consumption", workloadProfileType: "Consumption" }]);
    });

    it("an event-triggered job scaled by KEDA's github-runner scaler on the prod label of the repository", () => {
        const job = run.ofType(T.job)[0];
        const env = run.ofType(T.env)[0];
        assert.equal(job.inputs.environmentId, env.id);
        const c = job.inputs.configuration;
        assert.equal(c.triggerType, "Event");
        assert.equal(c.replicaRetryLimit, 0);
        assert.ok(c.replicaTimeout >= 3600, "a prod up takes over an hour");
        const [rule] = c.eventTriggerConfig.scale.rules;
        assert.equal(rule.type, "github-runner");
        const [owner, repo] = rawString(stackRaw("prod"), "ciRunner.repository")!.split("/");
        assert.deepEqual(rule.metadata, {
            owner,
            runnerScope: "repo",
            repos: repo,
            labels: `self-hosted,${LABEL}`,
            noDefaultLabels: "true",
            targetWorkflowQueueLength: "1",
        });
        // KEDA's github-runner authentication parameter for a token.
        assert.deepEqual(rule.auth, [{ triggerParameter: "personalAccessToken", secretRef: c.secrets[0].name }]);
        assert.equal(c.eventTriggerConfig.scale.minExecutions, 0);
    });

    it("keeps the token a job secret (a Pulumi secret), and gives the job no identity a workflow step could use", () => {
        const job = run.ofType(T.job)[0];
        const [ref] = job.inputs.configuration.secrets;
        assert.equal(ref.name, "github-token");
        assert.equal(ref.keyVaultUrl, undefined, "no Key Vault reference: the vault has no public endpoint");
        assert.ok(
            isSecretValue(job.rawInputs.configuration) || isSecretValue(job.rawInputs.configuration?.secrets?.[0]?.value),
            "the token is a secret",
        );
        // A managed identity on the job would hand every workflow step IDENTITY_ENDPOINT (Container Apps
        // managed identity docs): none, so nothing in the container can fetch an Azure token of its own.
        assert.equal(job.inputs.identity, undefined);
        assert.deepEqual(
            run.ofType(T.identity).filter((i) => i.name.startsWith("ci-runner")),
            [],
        );
    });

    it("registers each runner ephemeral, with the label, from the pinned actions runner image", () => {
        const [container] = run.ofType(T.job)[0].inputs.template.containers;
        assert.match(container.image, /^ghcr\.io\/actions\/actions-runner:\d+\.\d+\.\d+$/);
        assert.deepEqual(container.command, ["/bin/bash", "-c"]);
        assert.match(RUNNER_SCRIPT, /--ephemeral/);
        assert.match(RUNNER_SCRIPT, /actions\/runners\/registration-token/);
        const env = Object.fromEntries(
            container.env.map((e: { name: string; value?: string; secretRef?: string }) => [e.name, e.value ?? `secret:${e.secretRef}`]),
        );
        assert.equal(env.RUNNER_LABELS, `self-hosted,${LABEL}`);
        assert.equal(env.GITHUB_REPOSITORY, rawString(stackRaw("prod"), "ciRunner.repository"));
        assert.match(env.GITHUB_TOKEN, /^secret:/);
    });

    it("dev has none", async () => {
        const dev = await evaluateStack("dev");
        assert.equal(dev.ofType(T.job).length + dev.ofType(T.env).length, 0);
        assert.ok(!dev.ofType(T.vnet)[0].inputs.subnets.some((s: { name: string }) => s.name === "snet-runner"));
    });

    it("prod cannot be deployed without the runner's repository and token, named in the same round", () => {
        const raw = withOverrides(stackRaw("prod"), { "ciRunner.repository": undefined, "ciRunner.githubToken": undefined });
        const problems = checkDeployable(parseConfig(raw, PROJECT, "prod")).join("\n");
        assert.match(problems, /ciRunner\.repository: is not set/);
        assert.match(problems, /pulumi config set --path --secret ciRunner\.githubToken/);
        assert.match(
            configProblems(withOverrides(stackRaw("prod"), { "ciRunner.repository": "not a repo" }), "prod").join("\n"),
            // prod's ciRunner group holds the `secure:` token, so it arrives secret and none of its text is shown.
            /ciRunner\.repository: \(value not shown\) is not a GitHub repository/,
        );
    });

    it("dev's runner: egressing through its NAT gateway, labelled for dev", async () => {
        const dev = await evaluateStack("dev", DEV_NAT);
        const vnet = dev.ofType(T.vnet)[0];
        const subnet = vnet.inputs.subnets.find((s: { name: string }) => s.name === "snet-runner");
        const system = vnet.inputs.subnets.find((s: { name: string }) => s.name === "snet-system");
        assert.ok(subnet.natGateway, "the runner leaves from the NAT gateway's IPs");
        assert.deepEqual(subnet.natGateway, system.natGateway);
        const [rule] = dev.ofType(T.job)[0].inputs.configuration.eventTriggerConfig.scale.rules;
        assert.equal(rule.metadata.labels, "self-hosted,aks-platform-dev");
    });

    describe("dev's workflows run where the repository variable DEV_RUNS_ON says, else on a hosted runner", () => {
        for (const [file, job] of [
            ["deploy-dev.yml", "deploy"],
            ["pull-request.yml", "preview"],
            ["drift.yml", "drift"],
        ] as const)
            it(`${file} ${job}`, () =>
                assert.match(
                    String(workflow(file).jobs[job]["runs-on"]),
                    /vars\.DEV_RUNS_ON && fromJSON\(vars\.DEV_RUNS_ON\) \|\| 'ubuntu-latest' \}\}$/,
                ));
    });

    describe("the prod workflows run on it", () => {
        const selfHosted = ["self-hosted", LABEL];
        const prodRunsOn = (runsOn: unknown) =>
            Array.isArray(runsOn)
                ? runsOn
                : // runs-on: ${{ matrix.stack == 'prod' && fromJSON('[...]') || 'ubuntu-latest' }}
                  JSON.parse(/fromJSON\('(\[.*?\])'\)/.exec(String(runsOn))?.[1] ?? "null");

        it("deploy-prod.yml's pulumi up", () => assert.deepEqual(workflow("deploy-prod.yml").jobs.deploy["runs-on"], selfHosted));
        it("each of them is a job KEDA counts, so a runner starts for it; a job asking for linux is not", async () => {
            const [rule] = run.ofType(T.job)[0].inputs.configuration.eventTriggerConfig.scale.rules;
            for (const [file, job] of [
                ["deploy-prod.yml", "deploy"],
                ["pull-request.yml", "preview"],
                ["drift.yml", "drift"],
            ] as const)
                assert.ok(kedaCounts(prodRunsOn(workflow(file).jobs[job]["runs-on"]), rule.metadata), `${file} ${job}`);
            assert.ok(!kedaCounts(["self-hosted", "linux", LABEL], rule.metadata), "the runner registers no default labels");
        });
        it("pull-request.yml's prod preview, dev still on a hosted runner", () => {
            const runsOn = workflow("pull-request.yml").jobs.preview["runs-on"];
            assert.deepEqual(prodRunsOn(runsOn), selfHosted);
            assert.match(String(runsOn), /matrix\.stack == 'prod'.*\|\| 'ubuntu-latest'/);
        });
        it("drift.yml's prod check", () => assert.deepEqual(prodRunsOn(workflow("drift.yml").jobs.drift["runs-on"]), selfHosted));
    });
});
