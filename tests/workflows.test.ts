// The GitHub Actions workflows, checked by parsing them (they cannot run here): triggers, Node version,
// OIDC login without a client secret, the approval gate on prod, previews of both stacks with the
// policy pack, per-stack concurrency, and actions pinned to versions.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "./harness";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");

interface Step {
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
}

interface Job {
    readonly name?: string;
    readonly needs?: string | string[];
    readonly if?: string;
    readonly environment?: string | { readonly name: string };
    readonly permissions?: Record<string, string>;
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean };
    readonly strategy?: { readonly matrix?: Record<string, unknown> };
    readonly env?: Record<string, string>;
    readonly steps: readonly Step[];
}

interface Workflow {
    readonly on: Record<string, any>;
    readonly permissions?: Record<string, string>;
    readonly jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const load = (file: string) => parse(text(file)) as Workflow;

const FILES = ["pull-request.yml", "deploy-dev.yml", "deploy-prod.yml"] as const;

/** The action a step uses, without its version: `pulumi/actions`. */
const action = (step: Step) => step.uses?.split("@")[0];
const stepsUsing = (job: Job, name: string) => job.steps.filter((s) => action(s) === name);
const indexOf = (job: Job, predicate: (s: Step) => boolean) => job.steps.findIndex(predicate);

/** Jobs that run Pulumi. */
const pulumiJobs = (wf: Workflow) => Object.values(wf.jobs).filter((job) => stepsUsing(job, "pulumi/actions").length > 0);

/** The one pulumi/actions step of a job. */
function pulumiStep(job: Job): Step {
    const found = stepsUsing(job, "pulumi/actions");
    assert.equal(found.length, 1);
    return found[0];
}

/** The stacks a job runs Pulumi for: its stack-name, with `${{ matrix.stack }}` expanded. */
function stacksOf(job: Job): string[] {
    const stackName = String(pulumiStep(job).with?.["stack-name"]);
    if (stackName === "${{ matrix.stack }}") return (job.strategy?.matrix?.stack as string[]) ?? [];
    return [stackName];
}

describe("GitHub workflows", () => {
    it("are the three the delivery docs describe", () => {
        const found = fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
        assert.deepEqual(found.sort(), [...FILES].sort());
    });

    it("run on pull requests, pushes to main and published releases", () => {
        assert.deepEqual(load("pull-request.yml").on.pull_request.branches, ["main"]);
        assert.deepEqual(Object.keys(load("deploy-dev.yml").on), ["push"]);
        assert.deepEqual(load("deploy-dev.yml").on.push.branches, ["main"]);
        assert.deepEqual(Object.keys(load("deploy-prod.yml").on), ["release"]);
        assert.deepEqual(load("deploy-prod.yml").on.release.types, ["published"]);
    });

    for (const file of FILES) {
        describe(file, () => {
            const wf = load(file);

            it("tests with Node 22 and the npm cache (npm ci, npm test) before any Pulumi job", () => {
                const test = wf.jobs.test;
                assert.ok(test, "no test job");
                const runs = test.steps.map((s) => s.run?.split(" ").slice(0, 2).join(" "));
                assert.ok(runs.includes("npm ci") && runs.includes("npm test"));
                assert.ok(indexOf(test, (s) => s.run?.startsWith("npm ci") === true) < indexOf(test, (s) => s.run === "npm test"));
                for (const job of Object.values(wf.jobs)) {
                    const [setup] = stepsUsing(job, "actions/setup-node");
                    assert.ok(setup, `${job.name}: no setup-node`);
                    assert.equal(String(setup.with?.["node-version"]), "22");
                    assert.equal(setup.with?.cache, "npm");
                }
                for (const job of pulumiJobs(wf)) {
                    assert.ok([job.needs].flat().includes("test"), `${job.name} does not wait for the tests`);
                    assert.ok(
                        indexOf(job, (s) => s.run?.startsWith("npm ci") === true) < indexOf(job, (s) => action(s) === "pulumi/actions"),
                        "npm ci before pulumi",
                    );
                }
            });

            it("reads repository contents only, and gives the OIDC token only to the Azure jobs", () => {
                assert.deepEqual(wf.permissions, { contents: "read" });
                for (const [id, job] of Object.entries(wf.jobs)) {
                    const azure = stepsUsing(job, "azure/login").length > 0;
                    assert.equal(job.permissions?.["id-token"] === "write", azure, `${id} id-token`);
                    if (azure) assert.equal(job.permissions?.contents, "read", `${id} contents`);
                }
            });

            it("logs in to Azure through OIDC federation, before Pulumi runs", () => {
                for (const job of pulumiJobs(wf)) {
                    const [login] = stepsUsing(job, "azure/login");
                    assert.ok(login, `${job.name}: no azure/login`);
                    assert.deepEqual(Object.keys(login.with ?? {}).sort(), ["client-id", "subscription-id", "tenant-id"]);
                    assert.match(String(login.with?.["client-id"]), /^\$\{\{ (vars|secrets)\.AZURE_CLIENT_ID \}\}$/);
                    assert.ok(job.steps.indexOf(login) < indexOf(job, (s) => action(s) === "pulumi/actions"), "azure/login before pulumi");
                    assert.equal(job.env?.ARM_USE_OIDC, "true");
                    for (const key of ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"]) {
                        assert.match(String(job.env?.[key]), /^\$\{\{ (vars|secrets)\.AZURE_\w+ \}\}$/, key);
                    }
                    assert.equal(job.env?.ARM_CLIENT_ID, login.with?.["client-id"], "one identity for login and provider");
                }
            });

            it("has no client secret anywhere", () => {
                assert.doesNotMatch(text(file), /client[-_]?secret|CLIENT_SECRET|creds:|AZURE_CREDENTIALS|AZURE_STORAGE_KEY/i);
            });

            it("keeps state in Azure Blob, runs the policy pack, and passes the stack secrets from secrets", () => {
                for (const job of pulumiJobs(wf)) {
                    const step = pulumiStep(job);
                    assert.match(String(step.with?.["cloud-url"]), /^azblob:\/\/\$\{\{ vars\.\w+ \}\}$/);
                    assert.equal(step.with?.policyPacks, "policy");
                    assert.ok(fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml")));
                    assert.match(String(job.env?.AZURE_STORAGE_ACCOUNT), /^\$\{\{ vars\.\w+ \}\}$/);
                    assert.equal(job.env?.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
                }
            });

            it("serializes each stack's runs in a concurrency group of its own", () => {
                for (const job of pulumiJobs(wf)) {
                    const group = job.concurrency?.group ?? "";
                    const stack = String(pulumiStep(job).with?.["stack-name"]);
                    assert.ok(group.includes(stack), `group ${group} does not name the stack ${stack}`);
                }
            });

            it("pins every action to a version", () => {
                const uses = Object.values(wf.jobs).flatMap((job) =>
                    job.steps.map((s) => s.uses).filter((u): u is string => u !== undefined),
                );
                assert.ok(uses.length > 0);
                for (const u of uses) assert.match(u, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, u);
            });
        });
    }

    describe("pull-request.yml", () => {
        const wf = load("pull-request.yml");
        const [preview] = pulumiJobs(wf);

        it("previews dev and prod and comments each result on the pull request", () => {
            assert.deepEqual(stacksOf(preview), ["dev", "prod"]);
            const step = pulumiStep(preview);
            assert.equal(step.with?.command, "preview");
            assert.equal(step.with?.["comment-on-pr"], true);
            assert.equal(preview.permissions?.["pull-requests"], "write");
            assert.equal(
                preview.strategy && (preview.strategy as { "fail-fast"?: boolean })["fail-fast"],
                false,
                "one stack's failure hides the other's preview",
            );
        });

        it("cancels a superseded preview, per stack and pull request", () => {
            assert.equal(preview.concurrency?.group, "preview-${{ matrix.stack }}-pr-${{ github.event.pull_request.number }}");
            assert.equal(preview.concurrency?.["cancel-in-progress"], true);
        });

        it("skips the preview for pull requests from forks (no secrets, no OIDC token)", () => {
            assert.equal(preview.if, "github.event.pull_request.head.repo.full_name == github.repository");
        });

        it("has no environment, so its OIDC subject is repo:<owner>/<repo>:pull_request", () => {
            for (const job of Object.values(wf.jobs)) assert.equal(job.environment, undefined);
        });
    });

    describe("deploy-dev.yml", () => {
        const [deploy] = pulumiJobs(load("deploy-dev.yml"));

        it("runs pulumi up for dev only, never cancelling a running update", () => {
            assert.deepEqual(stacksOf(deploy), ["dev"]);
            assert.equal(pulumiStep(deploy).with?.command, "up");
            assert.deepEqual(deploy.concurrency, { group: "pulumi-dev", "cancel-in-progress": false });
        });

        it("has no environment, so its OIDC subject is repo:<owner>/<repo>:ref:refs/heads/main", () => {
            assert.equal(deploy.environment, undefined);
        });
    });

    describe("deploy-prod.yml", () => {
        const [deploy] = pulumiJobs(load("deploy-prod.yml"));

        it("runs pulumi up for prod behind the production environment's approval", () => {
            assert.deepEqual(stacksOf(deploy), ["prod"]);
            assert.equal(pulumiStep(deploy).with?.command, "up");
            const environment = typeof deploy.environment === "string" ? deploy.environment : deploy.environment?.name;
            assert.equal(environment, "production");
            assert.deepEqual(deploy.concurrency, { group: "pulumi-prod", "cancel-in-progress": false });
        });
    });
});
