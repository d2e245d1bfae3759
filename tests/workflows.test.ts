// The GitHub Actions workflows, checked without running them (they cannot run here): every workflow
// and the local composite action against the GitHub workflow / action JSON schemas (SchemaStore's,
// bundled in @action-validator/core), every pinned action's inputs against its action.yml (recorded in
// tests/fixtures/action-inputs.json), and what the delivery relies on: triggers, Node from .nvmrc, the
// Pulumi CLI of package.json, OIDC without a client secret, kubelogin, the approval gate, the images,
// promotion, the kind run and drift detection.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { SERVICE_NAMES } from "../components/config";
import { SERVICE_BUILD_ARG, SERVICE_DOCKERFILE } from "../components/config/constants";
import { MONGO_IMAGE } from "../components/workloads/mongodb";
import { ROOT, stackRaw } from "./harness";
import { rawString } from "./configRaw";
import { requireTool } from "./externalTools";

const GITHUB = path.join(ROOT, ".github");
const WORKFLOWS = path.join(GITHUB, "workflows");
const SETUP_ACTION = "./.github/actions/setup";

interface Step {
    readonly name?: string;
    readonly id?: string;
    readonly if?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
    readonly env?: Record<string, string>;
}

interface Job {
    readonly name?: string;
    readonly needs?: string | string[];
    readonly if?: string;
    readonly uses?: string;
    readonly with?: Record<string, unknown>;
    readonly outputs?: Record<string, string>;
    readonly environment?: string | { readonly name: string };
    readonly permissions?: Record<string, string>;
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean };
    readonly strategy?: { readonly "fail-fast"?: boolean; readonly matrix?: Record<string, unknown> };
    readonly env?: Record<string, string>;
    readonly services?: Record<string, { readonly image: string }>;
    readonly steps?: readonly Step[];
}

interface Workflow {
    readonly on: Record<string, any>;
    readonly permissions?: Record<string, string>;
    readonly jobs: Record<string, Job>;
}

interface ActionInputs {
    readonly tag: string;
    readonly commit: string;
    readonly runs: string;
    readonly inputs: Record<string, { readonly required: boolean; readonly default: boolean }>;
}

const FIXTURE: Record<string, ActionInputs> = JSON.parse(
    fs.readFileSync(path.join(ROOT, "tests", "fixtures", "action-inputs.json"), "utf8"),
).actions;

const FILES = ["pull-request.yml", "deploy-dev.yml", "deploy-prod.yml", "images.yml", "e2e.yml", "drift.yml", "services.yml"] as const;
const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const load = (file: string) => parse(text(file)) as Workflow;
const setupAction = () => fs.readFileSync(path.join(ROOT, SETUP_ACTION, "action.yml"), "utf8");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const PULUMI_VERSION: string = PACKAGE.dependencies["@pulumi/pulumi"];

const steps = (job: Job) => job.steps ?? [];
/** The action a step uses, without its version: `pulumi/actions`. */
const action = (step: Step) => step.uses?.split("@")[0];
const stepsUsing = (job: Job, name: string) => steps(job).filter((s) => action(s) === name);
const indexOf = (job: Job, predicate: (s: Step) => boolean) => steps(job).findIndex(predicate);
const runs = (job: Job, fragment: string) => indexOf(job, (s) => s.run?.includes(fragment) === true);

/** Jobs that run a Pulumi command through pulumi/actions. */
const pulumiJobs = (wf: Workflow) => Object.values(wf.jobs).filter((job) => stepsUsing(job, "pulumi/actions").some((s) => s.with?.command));
/** Jobs that talk to Azure. */
const azureJobs = (wf: Workflow) => Object.values(wf.jobs).filter((job) => job.env?.ARM_USE_OIDC !== undefined);

/** The one pulumi/actions step of a job that runs a command. */
function pulumiStep(job: Job): Step {
    const found = stepsUsing(job, "pulumi/actions").filter((s) => s.with?.command);
    assert.equal(found.length, 1);
    return found[0];
}

/** The stacks a job runs Pulumi for: its stack-name, with `${{ matrix.stack }}` expanded. */
function stacksOf(job: Job): string[] {
    const stackName = String(pulumiStep(job).with?.["stack-name"]);
    if (stackName === "${{ matrix.stack }}") return (job.strategy?.matrix?.stack as string[]) ?? [];
    return [stackName];
}

/** Every `uses:` line with its trailing comment, in the workflows and the composite action. */
function usesLines(): { file: string; uses: string; comment: string }[] {
    const sources = [...FILES.map((f) => [f, text(f)] as const), ["actions/setup/action.yml", setupAction()] as const];
    return sources.flatMap(([file, source]) =>
        [...source.matchAll(/^\s*(?:- )?uses:\s*(\S+)\s*(?:#\s*(.*))?$/gm)].map((m) => ({ file, uses: m[1], comment: m[2] ?? "" })),
    );
}

/** Step-level uses with their `with`, from the workflows and the composite action. */
function allSteps(): { file: string; step: Step }[] {
    const fromWorkflows = FILES.flatMap((file) =>
        Object.values(load(file).jobs).flatMap((job) => steps(job).map((step) => ({ file, step }))),
    );
    const composite = (parse(setupAction()).runs.steps as Step[]).map((step) => ({ file: "actions/setup/action.yml", step }));
    return [...fromWorkflows, ...composite];
}

describe("GitHub workflows", () => {
    it("are the ones the delivery docs describe", () => {
        const found = fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
        assert.deepEqual(found.sort(), [...FILES].sort());
        const docs = fs.readFileSync(path.join(ROOT, "docs", "delivery.md"), "utf8");
        for (const file of FILES) assert.ok(docs.includes(`\`${file}\``), `docs/delivery.md does not describe ${file}`);
    });

    describe("schemas", () => {
        for (const file of FILES) {
            it(`${file} is valid against the GitHub workflow schema`, () => {
                assert.deepEqual(validateWorkflow(text(file)).errors, []);
            });
        }

        it("the composite action is valid against the GitHub action schema", () => {
            assert.deepEqual(validateAction(setupAction()).errors, []);
        });

        it("the validator rejects what GitHub would (a job with a misspelt key, an action without runs)", () => {
            assert.ok(validateWorkflow("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n").errors.length > 0);
            assert.ok(validateAction("name: x\ndescription: y\n").errors.length > 0);
        });
    });

    describe("actions", () => {
        it("are pinned by full commit SHA, commented with the tag that commit is", () => {
            const remote = usesLines().filter((u) => !u.uses.startsWith("./"));
            assert.ok(remote.length > 10);
            for (const { file, uses, comment } of remote) {
                const [name, ref] = uses.split("@");
                const pinned = FIXTURE[name];
                assert.ok(pinned, `${file}: ${name} is not in tests/fixtures/action-inputs.json`);
                assert.equal(ref, pinned.commit, `${file}: ${name} is not pinned to ${pinned.commit}`);
                assert.equal(comment, pinned.tag, `${file}: ${name}'s comment should name ${pinned.tag}`);
            }
        });

        it("every action of the fixture is used (none recorded for nothing)", () => {
            const used = new Set(usesLines().map((u) => u.uses.split("@")[0]));
            for (const name of Object.keys(FIXTURE)) assert.ok(used.has(name), `${name} is pinned in the fixture but unused`);
        });

        it("run on node24", () => {
            for (const [name, pinned] of Object.entries(FIXTURE)) assert.equal(pinned.runs, "node24", name);
        });

        it("get only inputs their action.yml declares, and every required one", () => {
            for (const { file, step } of allSteps()) {
                const name = action(step);
                if (!name || name.startsWith("./")) continue;
                const declared = FIXTURE[name].inputs;
                for (const key of Object.keys(step.with ?? {})) assert.ok(key in declared, `${file}: ${name} has no input ${key}`);
                for (const [key, input] of Object.entries(declared)) {
                    if (input.required && !input.default) assert.ok(key in (step.with ?? {}), `${file}: ${name} needs ${key}`);
                }
            }
        });

        it("local actions and reusable workflows get only the inputs they declare, and every required one", () => {
            const setupInputs = parse(setupAction()).inputs as Record<string, { required?: boolean }>;
            for (const { file, step } of allSteps().filter((s) => s.step.uses === SETUP_ACTION)) {
                for (const key of Object.keys(step.with ?? {})) assert.ok(key in setupInputs, `${file}: setup has no input ${key}`);
            }
            const callee = load("images.yml").on.workflow_call.inputs as Record<string, { required?: boolean }>;
            const callers = FILES.flatMap((f) => Object.values(load(f).jobs)).filter((j) => j.uses !== undefined);
            assert.ok(callers.length >= 2);
            for (const job of callers) {
                assert.equal(job.uses, "./.github/workflows/images.yml");
                for (const key of Object.keys(job.with ?? {})) assert.ok(key in callee, `images.yml has no input ${key}`);
                for (const [key, input] of Object.entries(callee)) if (input.required) assert.ok(key in (job.with ?? {}), key);
            }
        });
    });

    it("run on pull requests, pushes to main, published releases, nightly and daily schedules", () => {
        assert.deepEqual(load("pull-request.yml").on.pull_request.branches, ["main"]);
        assert.deepEqual(Object.keys(load("deploy-dev.yml").on), ["push"]);
        assert.deepEqual(load("deploy-dev.yml").on.push.branches, ["main"]);
        assert.deepEqual(Object.keys(load("deploy-prod.yml").on), ["release"]);
        assert.deepEqual(load("deploy-prod.yml").on.release.types, ["published"]);
        assert.deepEqual(Object.keys(load("images.yml").on), ["workflow_call"]);
        assert.deepEqual(Object.keys(load("e2e.yml").on).sort(), ["pull_request", "schedule", "workflow_dispatch"]);
        assert.ok(load("drift.yml").on.schedule.length === 1);
    });

    it("set up Node from .nvmrc (22, as package.json's engines) through the one setup action", () => {
        assert.equal(fs.readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim(), "22");
        assert.equal(PACKAGE.engines.node, ">=22");
        const setup = (parse(setupAction()).runs.steps as Step[]).filter((s) => action(s) === "actions/setup-node");
        assert.deepEqual(
            setup.map((s) => s.with),
            [{ "node-version-file": ".nvmrc", cache: "npm" }],
        );
        for (const file of FILES) {
            assert.doesNotMatch(text(file), /node-version:|actions\/setup-node/, `${file} sets Node itself`);
            for (const [id, job] of Object.entries(load(file).jobs)) {
                const firstNpm = indexOf(job, (s) => /\bnpm /.test(s.run ?? ""));
                if (firstNpm < 0) continue;
                const setupAt = indexOf(job, (s) => s.uses === SETUP_ACTION);
                assert.ok(setupAt >= 0 && setupAt < firstNpm, `${file} ${id}: npm before the setup action`);
                assert.equal(
                    indexOf(job, (s) => action(s) === "actions/checkout"),
                    0,
                    `${file} ${id}: checkout first`,
                );
            }
        }
    });

    it("only run npm scripts that package.json defines", () => {
        // test:mongo comes with the services (npm workspaces under services/).
        const pending = fs.existsSync(path.join(ROOT, "services")) ? [] : ["test:mongo"];
        for (const file of FILES) {
            for (const [, script] of text(file).matchAll(/npm run (?:--silent )?([\w:-]+)/g)) {
                if (pending.includes(script)) continue;
                assert.ok(script in PACKAGE.scripts, `${file}: npm run ${script} is not a script of package.json`);
            }
        }
    });

    it("install the Pulumi CLI of @pulumi/pulumi in package.json in every pulumi/actions step", () => {
        const pulumiSteps = allSteps().filter((s) => action(s.step) === "pulumi/actions");
        assert.equal(pulumiSteps.length, 5, "preview, up dev, up prod, the CLI for e2e and for drift");
        for (const { file, step } of pulumiSteps) assert.equal(step.with?.["pulumi-version"], PULUMI_VERSION, file);
    });

    it("create a missing stack instead of failing on it (upsert) wherever pulumi/actions runs a command", () => {
        for (const file of FILES) for (const job of pulumiJobs(load(file))) assert.equal(pulumiStep(job).with?.upsert, true, file);
    });

    it("read repository contents only, and give the OIDC token only to the Azure jobs", () => {
        for (const file of FILES) {
            const wf = load(file);
            assert.deepEqual(wf.permissions, { contents: "read" }, file);
            for (const [id, job] of Object.entries(wf.jobs)) {
                const azure = job.env?.ARM_USE_OIDC === "true";
                assert.equal(job.permissions?.["id-token"] === "write", azure, `${file} ${id} id-token`);
                if (azure) assert.equal(job.permissions?.contents, "read", `${file} ${id} contents`);
            }
        }
    });

    it("log in to Azure through OIDC federation with one identity for the CLI and the provider, with kubelogin", () => {
        const composite = parse(setupAction()).runs.steps as Step[];
        const login = composite.findIndex((s) => action(s) === "azure/login");
        const kubelogin = composite.findIndex((s) => action(s) === "azure/use-kubelogin");
        const method = composite.findIndex((s) => /AAD_LOGIN_METHOD=/.test(s.run ?? ""));
        assert.ok(login >= 0 && login < kubelogin && kubelogin < method, "azure/login, then kubelogin, then its login method");
        assert.deepEqual(Object.keys(composite[login].with ?? {}).sort(), ["client-id", "subscription-id", "tenant-id"]);
        assert.match(String(composite[kubelogin].with?.["kubelogin-version"]), /^v\d+\.\d+\.\d+$/);
        let checked = 0;
        for (const file of FILES) {
            for (const job of azureJobs(load(file))) {
                const [setup] = steps(job).filter((s) => s.uses === SETUP_ACTION);
                assert.equal(setup.with?.["azure-client-id"], job.env?.ARM_CLIENT_ID, `${file}: one identity for login and provider`);
                assert.equal(setup.with?.["azure-tenant-id"], job.env?.ARM_TENANT_ID);
                assert.equal(setup.with?.["azure-subscription-id"], job.env?.ARM_SUBSCRIPTION_ID);
                for (const key of ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"]) {
                    assert.match(String(job.env?.[key]), /^\$\{\{ vars\.AZURE_\w+ \}\}$/, key);
                }
                const pulumiAt = indexOf(job, (s) => action(s) === "pulumi/actions" || /\bpulumi /.test(s.run ?? ""));
                assert.ok(steps(job).indexOf(setup) < pulumiAt, `${file}: the Azure login comes before Pulumi`);
                checked++;
            }
        }
        assert.equal(checked, 4, "preview, deploy dev, deploy prod, drift");
    });

    // Issue 17 item 3. Azure/kubelogin pkg/internal/token/provider.go: in workloadidentity mode, with
    // ACTIONS_ID_TOKEN_REQUEST_TOKEN and _URL set, kubelogin uses its GithubActionsCredential, which fetches
    // a fresh GitHub ID token per request; the client and tenant come from AZURE_CLIENT_ID/AZURE_TENANT_ID
    // (pkg/internal/env/variables.go). azurecli mode reuses the CLI's one federated token (about 5 minutes).
    it("run kubelogin in workloadidentity mode as the login's application, never through the Azure CLI", () => {
        const composite = parse(setupAction()).runs.steps as Step[];
        const [method] = composite.filter((s) => /AAD_LOGIN_METHOD=/.test(s.run ?? ""));
        const login = composite.find((s) => action(s) === "azure/login")!;
        const env = Object.fromEntries([...String(method.run).matchAll(/^\s*echo "(\w+)=(.*)"$/gm)].map(([, key, value]) => [key, value]));
        assert.deepEqual(env, {
            AAD_LOGIN_METHOD: "workloadidentity",
            AZURE_CLIENT_ID: login.with?.["client-id"],
            AZURE_TENANT_ID: login.with?.["tenant-id"],
        });
        assert.match(String(method.run), />> "\$GITHUB_ENV"/, "for every later step of the job");
        for (const file of FILES) assert.doesNotMatch(text(file), /AAD_LOGIN_METHOD=azurecli/i, file);
        // The docs no longer say the mode cannot work on a runner (a workstation still uses azurecli after az login).
        for (const doc of ["README.md", "docs/delivery.md", "docs/platform.md"]) {
            assert.doesNotMatch(fs.readFileSync(path.join(ROOT, doc), "utf8"), /a runner does not have|not an option on a runner/, doc);
        }
    });

    it("have no client secret anywhere", () => {
        for (const file of FILES) {
            assert.doesNotMatch(text(file), /client[-_]?secret|CLIENT_SECRET|creds:|AZURE_CREDENTIALS|AZURE_STORAGE_KEY/i, file);
        }
    });

    it("keep state in Azure Blob, run the policy pack, and pass the stack secrets from secrets", () => {
        for (const file of FILES) {
            for (const job of pulumiJobs(load(file))) {
                const step = pulumiStep(job);
                assert.match(String(step.with?.["cloud-url"]), /^azblob:\/\/\$\{\{ vars\.\w+ \}\}$/);
                assert.equal(step.with?.policyPacks, "policy");
                assert.ok(fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml")));
                assert.match(String(job.env?.AZURE_STORAGE_ACCOUNT), /^\$\{\{ vars\.\w+ \}\}$/);
                assert.equal(job.env?.PULUMI_CONFIG_PASSPHRASE, "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
            }
        }
    });

    it("serialize each Azure stack's runs in a concurrency group of its own", () => {
        for (const file of FILES) {
            for (const job of pulumiJobs(load(file))) {
                const group = job.concurrency?.group ?? "";
                const stack = String(pulumiStep(job).with?.["stack-name"]);
                assert.ok(group.includes(stack), `group ${group} does not name the stack ${stack}`);
            }
        }
        assert.equal(load("drift.yml").jobs.drift.concurrency?.group, "pulumi-${{ matrix.stack }}", "drift waits for updates");
    });

    describe("pull-request.yml", () => {
        const wf = load("pull-request.yml");
        const [preview] = pulumiJobs(wf);

        it("tests, then previews dev and prod and comments each result with its summary", () => {
            assert.ok(runs(wf.jobs.test, "npm test") >= 0);
            assert.deepEqual([preview.needs].flat(), ["test"]);
            assert.deepEqual(stacksOf(preview), ["dev", "prod"]);
            const step = pulumiStep(preview);
            assert.equal(step.with?.command, "preview");
            assert.equal(step.with?.["comment-on-pr"], true);
            assert.equal(step.with?.["always-include-summary"], true);
            assert.equal(preview.permissions?.["pull-requests"], "write");
            assert.equal(preview.strategy?.["fail-fast"], false, "one stack's failure hides the other's preview");
        });

        it("cancels a superseded preview, per stack and pull request", () => {
            assert.equal(preview.concurrency?.group, "preview-${{ matrix.stack }}-pr-${{ github.event.pull_request.number }}");
            assert.equal(preview.concurrency?.["cancel-in-progress"], true);
        });

        it("skips the Azure preview for forks and Dependabot, which get the offline plan instead", () => {
            assert.equal(
                preview.if,
                "github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]'",
            );
            assert.ok(runs(wf.jobs.test, 'npm run --silent plan -- "$stack"') >= 0);
            assert.equal(wf.jobs.test.if, undefined, "the tests and the plan run for every pull request");
        });

        it("has no environment, so its OIDC subject is repo:<owner>/<repo>:pull_request", () => {
            for (const job of Object.values(wf.jobs)) assert.equal(job.environment, undefined);
        });
    });

    describe("images.yml", () => {
        const wf = load("images.yml");
        const build = wf.jobs.build;
        const [buildStep] = stepsUsing(build, "docker/build-push-action");

        it("builds one image per service of the program, pushing to GHCR under the lowercased owner", () => {
            assert.deepEqual(build.strategy?.matrix?.service, [...SERVICE_NAMES]);
            // One Dockerfile, the service as its build argument (issue 21 item 5).
            assert.equal(buildStep.with?.file, SERVICE_DOCKERFILE);
            assert.equal(buildStep.with?.["build-args"], `${SERVICE_BUILD_ARG}=\${{ matrix.service }}`);
            assert.equal(buildStep.with?.tags, "${{ needs.registry.outputs.registry }}/${{ matrix.service }}:${{ inputs.tag }}");
            assert.equal(buildStep.with?.push, "${{ inputs.push }}");
            assert.ok(runs(wf.jobs.registry, 'registry=ghcr.io/${GITHUB_REPOSITORY_OWNER,,}" >> "$GITHUB_OUTPUT"') >= 0);
            assert.equal(build.permissions?.packages, "write");
            const [login] = stepsUsing(build, "docker/login-action");
            assert.equal(login.with?.registry, "ghcr.io");
            assert.equal(login.with?.password, "${{ secrets.GITHUB_TOKEN }}");
        });

        it("is called with dev-<sha> on main and the release's tag on a release", () => {
            assert.deepEqual(load("deploy-dev.yml").jobs.images.with, { tag: "dev-${{ github.sha }}", push: true });
            assert.deepEqual(load("deploy-prod.yml").jobs.images.with, { tag: "${{ github.event.release.tag_name }}", push: true });
            for (const file of ["deploy-dev.yml", "deploy-prod.yml"]) assert.equal(load(file).jobs.images.permissions?.packages, "write");
        });

        it("builds what e2e.yml builds for kind: the same Dockerfile, build argument, context and services", () => {
            const e2e = load("e2e.yml").jobs.kind;
            const loop = steps(e2e).find((s) => s.run?.includes("kind load docker-image"))!.run!;
            assert.deepEqual(
                loop
                    .match(/for service in ([\w -]+); do/)?.[1]
                    .trim()
                    .split(/\s+/),
                [...SERVICE_NAMES],
            );
            assert.ok(
                loop.includes(`--file ${SERVICE_DOCKERFILE} --build-arg "${SERVICE_BUILD_ARG}=$service" ${buildStep.with?.context}\n`),
                "same Dockerfile, build argument and context",
            );
            // ...tagged as the local stack names them.
            const local = stackRaw("local");
            for (const service of SERVICE_NAMES) {
                // services.productImage / services.productTag for product-service (components/config/layout.ts).
                const stem = service.replace(/-service$/, "");
                assert.equal(`${rawString(local, `services.${stem}Image`)}:${rawString(local, `services.${stem}Tag`)}`, `${service}:local`);
            }
            assert.ok(loop.includes('docker build --tag "$service:local"'));
        });

        it("finds the one Dockerfile, and a service folder for every service it is built for", function () {
            if (!fs.existsSync(path.join(ROOT, "services"))) this.skip();
            assert.ok(fs.existsSync(path.join(ROOT, SERVICE_DOCKERFILE)));
            for (const service of SERVICE_NAMES) {
                assert.ok(fs.existsSync(path.join(ROOT, "services", service, "package.json")), service);
                assert.ok(!fs.existsSync(path.join(ROOT, "services", service, "Dockerfile")), `${service}: no second Dockerfile`);
            }
        });
    });

    describe("deploy-dev.yml", () => {
        const wf = load("deploy-dev.yml");
        const [deploy] = pulumiJobs(wf);

        it("promotes the new tag by a commit to main, then deploys that commit", () => {
            const promote = wf.jobs.promote;
            assert.deepEqual([promote.needs].flat(), ["images"]);
            assert.equal(promote.permissions?.contents, "write");
            assert.equal(steps(promote)[0].with?.ref, "main");
            const at = runs(promote, "npm run promote -- --stack dev");
            assert.ok(at >= 0 && at < runs(promote, ".github/scripts/commit-promotion.sh"));
            assert.deepEqual(steps(promote)[at].env, {
                TAG: "${{ needs.images.outputs.tag }}",
                REGISTRY: "${{ needs.images.outputs.registry }}",
            });
            assert.equal(promote.outputs?.sha, "${{ steps.commit.outputs.sha }}");
            assert.deepEqual([deploy.needs].flat(), ["promote"]);
            assert.equal(steps(deploy)[0].with?.ref, "${{ needs.promote.outputs.sha }}");
            assert.equal(promote.concurrency?.group, load("deploy-prod.yml").jobs.promote.concurrency?.group, "one promotion at a time");
        });

        it("runs pulumi up for dev only, never cancelling a running update, with no environment", () => {
            assert.deepEqual(stacksOf(deploy), ["dev"]);
            assert.equal(pulumiStep(deploy).with?.command, "up");
            assert.deepEqual(deploy.concurrency, { group: "pulumi-dev", "cancel-in-progress": false });
            assert.equal(deploy.environment, undefined, "OIDC subject repo:<owner>/<repo>:ref:refs/heads/main");
        });
    });

    describe("deploy-prod.yml", () => {
        const wf = load("deploy-prod.yml");
        const [deploy] = pulumiJobs(wf);

        it("runs pulumi up for prod behind the production environment's approval, with the release's images", () => {
            assert.deepEqual(stacksOf(deploy), ["prod"]);
            assert.equal(pulumiStep(deploy).with?.command, "up");
            const environment = typeof deploy.environment === "string" ? deploy.environment : deploy.environment?.name;
            assert.equal(environment, "production");
            assert.deepEqual(deploy.concurrency, { group: "pulumi-prod", "cancel-in-progress": false });
            const promoteAt = runs(deploy, "npm run promote -- --stack prod");
            assert.ok(promoteAt >= 0 && promoteAt < indexOf(deploy, (s) => action(s) === "pulumi/actions"));
            assert.equal(steps(deploy)[0].with, undefined, "the release's own checkout");
        });

        it("promotes the tag to prod on main only after the approved update", () => {
            const promote = wf.jobs.promote;
            assert.deepEqual([promote.needs].flat().sort(), ["deploy", "images"]);
            assert.equal(promote.permissions?.contents, "write");
            assert.ok(runs(promote, "npm run promote -- --stack prod") < runs(promote, ".github/scripts/commit-promotion.sh"));
        });
    });

    describe("e2e.yml", () => {
        const wf = load("e2e.yml");
        const kind = wf.jobs.kind;
        const order = (...fragments: string[]) => fragments.map((f) => runs(kind, f));

        it("runs on pull requests touching the program, charts or services, and nightly", () => {
            const paths: string[] = wf.on.pull_request.paths;
            for (const p of ["index.ts", "components/**", "charts/**", "services/**", "Pulumi.local.yaml", "package-lock.json"]) {
                assert.ok(paths.includes(p), p);
            }
            assert.match(wf.on.schedule[0].cron, /^\d+ \d+ \* \* \*$/);
        });

        it("pins kind, its node image by digest and the Pulumi CLI", () => {
            const [cluster] = stepsUsing(kind, "helm/kind-action");
            assert.match(String(cluster.with?.version), /^v\d+\.\d+\.\d+$/);
            assert.match(String(cluster.with?.node_image), /^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
            assert.equal(kind.env?.KIND_CLUSTER, cluster.with?.cluster_name === "${{ env.KIND_CLUSTER }}" ? "e2e" : undefined);
        });

        it("creates the cluster, loads the images, then up, smoke tests, the idempotency gate, destroy", () => {
            const clusterAt = indexOf(kind, (s) => action(s) === "helm/kind-action");
            const cliAt = indexOf(kind, (s) => action(s) === "pulumi/actions");
            const [load_, login, init, context, up, smoke, gate, diagnostics, destroy] = order(
                "kind load docker-image",
                "pulumi login --local",
                'pulumi stack init "$STACK"',
                'pulumi config set --path local.kubeconfigContext "kind-$KIND_CLUSTER"',
                'pulumi up --yes --stack "$STACK"',
                ".github/scripts/e2e-smoke.sh",
                'pulumi preview --expect-no-changes --diff --stack "$STACK"',
                ".github/scripts/e2e-diagnostics.sh",
                'pulumi destroy --yes --stack "$STACK"',
            );
            assert.ok(clusterAt < load_ && load_ < up && cliAt < login && login === init && init === context && context < up);
            assert.ok(up < smoke && smoke < gate && gate < diagnostics && diagnostics < destroy);
            assert.equal(kind.env?.STACK, "local");
            assert.equal(steps(kind)[diagnostics].if, "failure() && steps.init.outcome == 'success'");
            assert.equal(steps(kind)[destroy].if, "always() && steps.init.outcome == 'success'");
            assert.equal(steps(kind)[init].id, "init");
        });

        it("runs twice: Vault in dev mode and local.vaultMode ha, each on its own kind config", () => {
            assert.deepEqual(kind.strategy?.matrix?.vault, ["dev", "ha"]);
            assert.equal(kind.strategy?.["fail-fast"], false);
            const [cluster] = stepsUsing(kind, "helm/kind-action");
            assert.equal(cluster.with?.config, ".github/kind/e2e-${{ matrix.vault }}.yaml");
            const init = steps(kind).find((s) => s.id === "init")!;
            assert.match(init.run!, /pulumi config set --path local\.vaultMode "\$VAULT_MODE" --stack "\$STACK"/);
            assert.equal(init.env?.VAULT_MODE, "${{ matrix.vault }}");
            // The smoke test is told the mode (it skips the dev root token's lease check only for ha),
            // rather than guessing it from a Secret a broken dev run might have lost.
            const smoke = steps(kind).find((s) => s.run === ".github/scripts/e2e-smoke.sh")!;
            assert.equal(smoke.env?.VAULT_MODE, "${{ matrix.vault }}");
            const script = fs.readFileSync(path.join(ROOT, ".github", "scripts", "e2e-smoke.sh"), "utf8");
            assert.match(script, /if \[ "\$\{VAULT_MODE:-dev\}" = ha \]; then/);
            assert.doesNotMatch(script, /if ! kubectl -n vault get secret vault-dev-root-token/);
            // kind's config: ha needs a schedulable node per voter (required hostname anti-affinity); kind
            // keeps the control plane tainted once there are workers (kind.x-k8s.io/v1alpha4 nodes[].role).
            const roles = (mode: string) =>
                (parse(fs.readFileSync(path.join(ROOT, ".github", "kind", `e2e-${mode}.yaml`), "utf8")).nodes as { role: string }[]).map(
                    (n) => n.role,
                );
            assert.deepEqual(roles("dev"), ["control-plane"]);
            assert.deepEqual(roles("ha"), ["control-plane", "worker", "worker", "worker"]);
        });

        it("with ha, runs the real-Vault steps (rollout, snapshot save and restore) after the smoke tests and before the idempotency gate", () => {
            const [up, smoke, vault, gate, destroy] = order(
                'pulumi up --yes --stack "$STACK"',
                ".github/scripts/e2e-smoke.sh",
                ".github/scripts/e2e-vault.sh",
                'pulumi preview --expect-no-changes --diff --stack "$STACK"',
                'pulumi destroy --yes --stack "$STACK"',
            );
            assert.ok(up < smoke && smoke < vault && vault < gate && gate < destroy, `${[up, smoke, vault, gate, destroy]}`);
            assert.equal(steps(kind)[vault].if, "matrix.vault == 'ha'");
            const script = fs.readFileSync(path.join(ROOT, ".github", "scripts", "e2e-vault.sh"), "utf8");
            const at = (fragment: string) => {
                const i = script.indexOf(fragment);
                assert.ok(i >= 0, fragment);
                return i;
            };
            const status = at("status -format=json");
            const peers = at("operator raft list-peers");
            const rollout = at('"$repo_root/scripts/vault-rollout.sh" check');
            const save = at("create job e2e-snapshot --from=");
            const restore = at('"$repo_root/scripts/vault-raft-restore.sh" "$snap"');
            const revoke = at("token revoke -self");
            assert.ok(status < peers && peers < rollout && rollout < save && save < restore && restore < revoke);
            // The snapshot is restored into the cluster it came from, on the same transit seal, which passes
            // Vault's unforced check (hashicorp/vault vault/logical_system_raft.go,
            // handleStorageRaftSnapshotWrite: the running seal must open the snapshot's sealed hashes), so the
            // e2e runs the restore script's default, unforced path: no FORCE_RESTORE in the call, the script's code or
            // the workflow (which would pass it on through the environment).
            const restoreCall = script.slice(script.lastIndexOf("\n", restore) + 1, script.indexOf("\n", restore)).trim();
            assert.equal(restoreCall, 'VAULT_TOKEN="$root" NAMESPACE="$ns" "$repo_root/scripts/vault-raft-restore.sh" "$snap"');
            const code = script
                .split("\n")
                .filter((l) => !l.trimStart().startsWith("#"))
                .join("\n");
            assert.doesNotMatch(code, /\bFORCE_RESTORE\b|-force/);
            assert.doesNotMatch(text("e2e.yml"), /\bFORCE_RESTORE\b/);
            // The unsealer restarted, then a server started after it; the seal's token looked up from each
            // server, revoked (its expiry after a stopped cluster), re-created by the sidecar, and a server
            // started with it (issue 20 item 8, review findings 1 and 6).
            const unsealerRestart = at('kv delete pod -l "$unsealer_label"');
            const lookup = at("vault token lookup -field=ttl");
            const lookedUp = at('ttl=$(seal_token_ttl "$pod")');
            const firstServerRestart = script.indexOf('restart_server_pod "$pod"', lookedUp);
            const tokenRevoked = at("vault write auth/token/revoke token=-");
            const recreatedLog = at("the seal's token created with the Secret's ID");
            const secondServerRestart = script.indexOf('restart_server_pod "$pod"', recreatedLog);
            assert.ok(lookup < unsealerRestart, "seal_token_ttl is defined before use");
            assert.ok(restore < unsealerRestart && unsealerRestart < lookedUp, "the unsealer restarts after the restore");
            assert.ok(lookedUp < firstServerRestart && firstServerRestart < tokenRevoked, "a server restarts after the unsealer");
            assert.ok(tokenRevoked < recreatedLog && recreatedLog < secondServerRestart && secondServerRestart < revoke);
            // The sidecar's log line the e2e waits for is the script's own.
            const unsealerScript = fs.readFileSync(path.join(ROOT, "scripts", "vault-unsealer.sh"), "utf8");
            assert.ok(unsealerScript.includes("the seal's token created with the Secret's ID"));
            // A server restart waits for its pod to be re-created (a new uid), then Ready, then unsealed.
            assert.match(script, /restart_server_pod\(\) \{[\s\S]*?metadata\.uid[\s\S]*?condition=Ready[\s\S]*?sealed \| not/);
        });

        it("triggers on changes to the kind configs", () => {
            assert.ok((wf.on.pull_request.paths as string[]).includes(".github/kind/**"));
        });

        it("needs no repository secret, and masks the run's throwaway passphrase", () => {
            assert.doesNotMatch(text("e2e.yml"), /secrets\.|vars\./);
            const init = steps(kind).find((s) => s.id === "init")!.run!;
            assert.ok(init.indexOf('echo "::add-mask::$passphrase"') < init.indexOf("GITHUB_ENV"));
        });
    });

    describe("drift.yml", () => {
        const job = load("drift.yml").jobs.drift;

        it("previews each Azure stack with --refresh --expect-no-changes and may write issues", () => {
            assert.deepEqual(job.strategy?.matrix?.stack, ["dev", "prod"]);
            assert.equal(job.permissions?.issues, "write");
            assert.ok(runs(job, '.github/scripts/drift-check.sh "${{ matrix.stack }}"') >= 0);
            const script = fs.readFileSync(path.join(GITHUB, "scripts", "drift-check.sh"), "utf8");
            assert.ok(script.includes('pulumi preview --refresh --expect-no-changes --json --stack "$stack"'));
        });
    });

    describe("services.yml", () => {
        const job = load("services.yml").jobs.mongo;

        it("runs the services' MongoDB tests against the image the program deploys", () => {
            assert.deepEqual(load("services.yml").on.pull_request.paths.includes("services/**"), true);
            assert.equal(job.services?.mongodb.image, MONGO_IMAGE);
            const step = steps(job).find((s) => s.run === "npm run test:mongo")!;
            assert.equal(step.env?.MONGODB_TEST_URL, "mongodb://localhost:27017");
        });
    });

    describe("dependabot.yml", () => {
        const config = parse(fs.readFileSync(path.join(GITHUB, "dependabot.yml"), "utf8"));
        const byEcosystem = (name: string) =>
            config.updates.filter((u: { "package-ecosystem": string }) => u["package-ecosystem"] === name);

        it("updates npm (root with the services' workspaces, policy), GitHub Actions and Docker", () => {
            assert.equal(config.version, 2);
            assert.deepEqual(byEcosystem("npm")[0].directories, ["/", "/policy"]);
            assert.ok(fs.existsSync(path.join(ROOT, "policy", "package.json")));
            assert.deepEqual(byEcosystem("github-actions")[0].directories, ["/", "/.github/actions/*"]);
            // Where the services' one Dockerfile is.
            assert.deepEqual(byEcosystem("docker")[0].directories, [path.posix.dirname(`/${SERVICE_DOCKERFILE}`)]);
        });
    });

    it("scripts pass shellcheck", function () {
        requireTool(this, "shellcheck");
        const dir = path.join(GITHUB, "scripts");
        const scripts = fs.readdirSync(dir).map((f) => path.join(dir, f));
        assert.ok(scripts.length >= 4);
        // -x: e2e-vault.sh sources scripts/lib-kubectl.sh, which is checked as sourced there.
        const result = spawnSync("shellcheck", ["-x", ...scripts], { encoding: "utf8" });
        assert.equal(result.status, 0, result.stdout);
        for (const script of scripts) assert.ok((fs.statSync(script).mode & 0o111) !== 0, `${script} is not executable`);
    });
});
