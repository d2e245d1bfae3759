// Promotion as the lab does it: a new build's tag is written where an environment reads it.
// `npm run promote -- --stack dev --tag dev-<sha> [--registry ghcr.io/<owner>]` sets each service's
// image tag (and, with --registry, its repository <registry>/<service>) in Pulumi.<stack>.yaml's
// `services` group (services.productTag, services.productImage, ...: what `pulumi config set --path
// services.productTag <tag>` would write), the Helm-release path's source, then regenerates argocd/apps/<env>/ from it (tools/gitops.ts), the Argo
// CD path's. The workflows run it and commit the result (.github/workflows/deploy-dev.yml,
// deploy-prod.yml). The stack file is edited as a YAML document, so its comments, the group's other
// members (prod's secure image source token) and every other group stay as they are; the group is
// created when the file has none (dev, prod before its first release), last, under the comment that
// ends the file and describes it. A `services:` left empty (`~`, or only a comment under it) is
// replaced by the group, the comment kept above its members. Running it twice changes nothing the
// second time. The rest of the file is written back by the yaml package, which keeps its content and
// comments but not every spelling: in the committed stack files' style (two-space indentation, lists
// indented under their key, unpadded flow lists `["a", "b"]`, one space after a colon) nothing else
// changes, byte for byte (tests/gitops.test.ts checks it on Pulumi.dev.yaml and Pulumi.prod.yaml); a
// file written otherwise comes back normalised (`tier:   Free` as `tier: Free`, `[ "x" ]` as `["x"]`,
// unindented `- ` items indented, blank lines may collapse or move). A tag or repository that gopkg.in/yaml.v3 (the
// CLI's reader) would take for a number unquoted (`1_000`, `0b11`: tools/cliConfig.ts
// resolveGoYamlNumber) is written quoted, so the program receives the text promoted.
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, parseDocument, Scalar, YAMLMap, type Document } from "yaml";
import {
    checkImageRepository,
    checkImageTag,
    ENVIRONMENTS,
    SERVICE_IMAGE_PATHS,
    SERVICE_NAMES,
    splitPath,
    type ConfigPath,
    type Environment,
    type ServiceName,
} from "../components/config";
import { groupKeyOf, resolveGoYamlNumber } from "./cliConfig";
import { PROJECT, ROOT } from "./mocks";
import { IMAGE_GROUP, writeGitOps } from "./gitops";

/** The config paths of a service's image: product-service -> services.productImage, services.productTag. */
export function imageKeys(service: ServiceName): { readonly image: string; readonly tag: string } {
    const { repository, tag } = SERVICE_IMAGE_PATHS[service];
    return { image: repository, tag };
}

/** The YAML path of a `<group>.<member>` path in a stack file whose group is under `groupKey`. */
function documentPath(groupKey: string, configPath: string): string[] {
    return ["config", groupKey, splitPath(configPath as ConfigPath).member];
}

export interface Promotion {
    /** The image tag to deploy, e.g. dev-3f2c1ab or v1.2.0. */
    readonly tag: string;
    /** Registry and owner the images are pushed under, e.g. ghcr.io/my-org (lowercased). Default: keep the repositories. */
    readonly registry?: string;
}

/**
 * `text` as a YAML string node that the Pulumi CLI reads back as that text. The yaml package quotes
 * what its YAML 1.2 core schema would read as a number, a boolean or null (`010`, `1.10`, `true`), but
 * writes plain what gopkg.in/yaml.v3 still reads as a number (`1_000` is 1000, `0b11` 3: resolve.go,
 * modelled by resolveGoYamlNumber): those are double-quoted here.
 */
function textNode(doc: Document, text: string): Scalar {
    const node = doc.createNode(text);
    if (typeof resolveGoYamlNumber(text) !== "string") node.type = Scalar.QUOTE_DOUBLE;
    return node;
}

/** `text` (a Pulumi.<stack>.yaml) with every service's image set as `promotion` says. */
export function promoteStackFile(text: string, promotion: Promotion, project = PROJECT): string {
    const registry = promotion.registry?.toLowerCase().replace(/\/+$/, "");
    const problems: string[] = [];
    const doc = parseDocument(text);
    if (!isMap(doc.get("config"))) doc.set("config", doc.createNode({}));
    const config = doc.get("config") as YAMLMap;
    const groupKey = groupKeyOf(config, project, IMAGE_GROUP);
    // YAMLMap.get gives undefined both for a missing key and for an empty (null) value: ask for the node.
    const existing: unknown = config.has(groupKey) ? config.get(groupKey, true) : undefined;
    if (isScalar(existing) && existing.value === null) {
        // `services:` with nothing (`~`, or only a comment) under it: the group, the comment kept above its members.
        const members = new YAMLMap();
        const comment = [existing.commentBefore, existing.comment].filter((c) => c !== undefined && c !== null).join("\n");
        if (comment) members.commentBefore = comment;
        config.set(groupKey, members);
    } else if (existing !== undefined && !isMap(existing)) {
        throw new Error(`${groupKey} in the stack file is not a group of settings; promotion sets members of it`);
    } else if (existing === undefined) {
        // A new group goes last, under the comment that ends the config map (the stack files end with
        // the one that describes the services' images): the comment moves from the map's end to the
        // new key, so it stays above the group it describes.
        const key = doc.createNode(groupKey);
        if (config.comment) {
            key.commentBefore = config.comment;
            config.comment = undefined;
        }
        config.add(doc.createPair(key, new YAMLMap()));
    }
    for (const service of SERVICE_NAMES) {
        const keys = imageKeys(service);
        if (registry !== undefined) {
            const repository = `${registry}/${service}`;
            const repositoryProblem = checkImageRepository(keys.image, repository);
            if (repositoryProblem) problems.push(repositoryProblem);
            doc.setIn(documentPath(groupKey, keys.image), textNode(doc, repository));
        }
        const tagProblem = checkImageTag(keys.tag, promotion.tag);
        if (tagProblem) problems.push(tagProblem);
        doc.setIn(documentPath(groupKey, keys.tag), textNode(doc, promotion.tag));
    }
    if (problems.length > 0) throw new Error([...new Set(problems)].join("\n"));
    // As the file is written: flow lists unpadded (["1", "2"], not [ "1", "2" ]), no line folded.
    return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The environment a stack deploys: its `environment` key, else its name. */
export function environmentOf(stack: string, text: string, project = PROJECT): Environment {
    const config = parseDocument(text).get("config");
    const declared = isMap(config) ? config.get(groupKeyOf(config, project, "environment")) : undefined;
    const environment = typeof declared === "string" ? declared : stack;
    if (!(ENVIRONMENTS as readonly string[]).includes(environment)) throw new Error(`stack ${stack}: unknown environment ${environment}`);
    return environment as Environment;
}

function option(argv: readonly string[], name: string): string | undefined {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
    const stack = option(argv, "stack");
    const tag = option(argv, "tag");
    if (!stack || !tag) throw new Error("usage: npm run promote -- --stack <stack> --tag <tag> [--registry ghcr.io/<owner>]");
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    const text = fs.readFileSync(file, "utf8");
    // Known before anything is written: an unknown environment leaves the file as it was.
    const environment = environmentOf(stack, text);
    fs.writeFileSync(file, promoteStackFile(text, { tag, registry: option(argv, "registry") }));
    console.log(`set ${SERVICE_NAMES.join(", ")} to ${tag} in Pulumi.${stack}.yaml`);
    for (const written of await writeGitOps(environment)) console.log(`wrote ${written}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        () => process.exit(0),
        (error) => {
            console.error(error instanceof Error ? error.message : error);
            process.exit(1);
        },
    );
}
