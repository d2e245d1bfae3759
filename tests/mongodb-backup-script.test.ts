// scripts/mongodb-backup.sh run by a POSIX sh against stand-ins for mongodump and curl (Entra ID's token
// endpoint and Azure Storage's Put Blob): what it sends, that no secret is ever an argument, and that
// every failure ends it non-zero with the reason. `sleep` returns at once so retries cost nothing.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MONGO_BACKUP_SCRIPT } from "../components/workloads/mongoBackup";

// mongodump: records its arguments and the --config file's text; writes $FAKE/dump.content (or
// nothing, with $FAKE/dump.empty) to --archive; fails with $FAKE/dump.fail.
const FAKE_MONGODUMP = `#!/bin/sh
printf '%s\\n' "$@" >"$FAKE/mongodump.args"
for a in "$@"; do
  case "$a" in
    --archive=*) archive=\${a#--archive=} ;;
    --config=*) cat "\${a#--config=}" >"$FAKE/config.seen" ;;
  esac
done
[ -f "$FAKE/dump.fail" ] && { echo "Failed: connection refused" >&2; exit 1; }
if [ -f "$FAKE/dump.empty" ]; then : >"$archive"; else cat "$FAKE/dump.content" >"$archive"; fi
`;

// curl: every argument list is appended to $FAKE/curl.args (one per line); the token endpoint answers
// $FAKE/token.status (default 200) and the upload $FAKE/put.status (default 201). Files curl reads
// (client_assertion@file, -H @file, -T file) are copied out so the test can inspect them.
const FAKE_CURL = `#!/bin/sh
printf '%s\\n' "$@" >>"$FAKE/curl.args"
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -w) shift 2 ;;
    -T) upload=$2; shift 2 ;;
    -H) case "$2" in @*) cat "\${2#@}" >>"$FAKE/headers.seen" ;; *) printf '%s\\n' "$2" >>"$FAKE/headers.seen" ;; esac; shift 2 ;;
    --data-urlencode)
      case "$2" in client_assertion@*) cat "\${2#client_assertion@}" >"$FAKE/assertion.seen" ;; esac
      printf '%s\\n' "$2" >>"$FAKE/form.seen"; shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
case "$url" in
  */oauth2/v2.0/token)
    echo "$url" >"$FAKE/token.url"
    status=$(cat "$FAKE/token.status" 2>/dev/null || echo 200)
    if [ "$status" = 200 ]; then
      printf '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.ACCESS-TOKEN"}' >"$out"
    else
      printf '{"error":"invalid_client","error_description":"AADSTS70021: No matching federated identity record found"}' >"$out"
    fi ;;
  *)
    echo "$url" >"$FAKE/put.url"
    cp "$upload" "$FAKE/uploaded"
    status=$(cat "$FAKE/put.status" 2>/dev/null || echo 201)
    [ "$status" = 201 ] || printf '<Error><Code>AuthorizationPermissionMismatch</Code></Error>' >"$out" ;;
esac
printf '%s' "$status"
`;

const PASSWORD = "s3cr'et-PASS_word";
const FEDERATED_TOKEN = "eyJ.FEDERATED-SA-TOKEN";
const CONTAINER_URL = "https://gitopsdevbkab12.blob.core.windows.net/mongodb";

describe("scripts/mongodb-backup.sh", () => {
    let fake: string;
    let backupDir: string;
    let tmp: string;
    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "mongodb-backup-"));
        fs.mkdirSync(path.join(fake, "bin"));
        for (const [name, body] of Object.entries({ sleep: "#!/bin/sh\nexit 0\n", mongodump: FAKE_MONGODUMP, curl: FAKE_CURL }))
            fs.writeFileSync(path.join(fake, "bin", name), body, { mode: 0o755 });
        backupDir = path.join(fake, "backup");
        tmp = path.join(fake, "tmp");
        fs.mkdirSync(backupDir);
        fs.mkdirSync(tmp);
        fs.writeFileSync(path.join(fake, "dump.content"), "BSON-ARCHIVE-BYTES");
        fs.writeFileSync(path.join(fake, "sa-token"), FEDERATED_TOKEN);
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    const read = (file: string) => fs.readFileSync(path.join(fake, file), "utf8");
    function run(step: string, extra: Record<string, string | undefined> = {}) {
        const environment: Record<string, string> = {
            PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
            FAKE: fake,
            TMPDIR: tmp,
            BACKUP_DIR: backupDir,
            WAIT_SECONDS: "0",
            MONGO_HOST: "mongodb.microservices-dev.svc.cluster.local",
            MONGO_USERNAME: "root",
            MONGO_PASSWORD: PASSWORD,
            BLOB_CONTAINER_URL: CONTAINER_URL,
            AZURE_CLIENT_ID: "00000000-1111-2222-3333-444444444444",
            AZURE_TENANT_ID: "00000000-0000-0000-0000-000000000001",
            AZURE_FEDERATED_TOKEN_FILE: path.join(fake, "sa-token"),
            AZURE_AUTHORITY_HOST: "https://login.microsoftonline.com/",
        };
        for (const [k, v] of Object.entries(extra)) {
            if (v === undefined) delete environment[k];
            else environment[k] = v;
        }
        return spawnSync("sh", [MONGO_BACKUP_SCRIPT, step], { encoding: "utf8", env: environment });
    }
    function dumped(): string {
        const r = run("dump");
        assert.equal(r.status, 0, r.stderr);
        return fs.readFileSync(path.join(backupDir, "name"), "utf8").trim();
    }

    describe("dump", () => {
        it("writes a gzipped archive of every database, named by the time, and records its name", () => {
            const name = dumped();
            assert.match(name, /^mongodb-\d{8}T\d{6}Z\.archive\.gz$/);
            assert.equal(fs.readFileSync(path.join(backupDir, name), "utf8"), "BSON-ARCHIVE-BYTES");
            const args = read("mongodump.args").trim().split("\n");
            for (const expected of [
                "--host=mongodb.microservices-dev.svc.cluster.local",
                "--port=27017",
                "--username=root",
                "--authenticationDatabase=admin",
                `--archive=${path.join(backupDir, name)}.partial`,
                "--gzip",
            ])
                assert.ok(args.includes(expected), `${expected} not in ${args.join(" ")}`);
            assert.ok(!args.some((a) => a.startsWith("--db") || a.startsWith("--collection")), "every database");
        });

        it("hands the password over in a --config file, YAML-quoted, never as an argument, and leaves no copy behind", () => {
            dumped();
            assert.equal(read("config.seen"), "password: 's3cr''et-PASS_word'\n");
            assert.ok(!read("mongodump.args").includes("PASS_word"));
            assert.deepEqual(fs.readdirSync(tmp), [], "the config file's directory is removed");
        });

        it("fails with the reason, leaving no partial archive and no name, when mongodump fails", () => {
            fs.writeFileSync(path.join(fake, "dump.fail"), "");
            const r = run("dump");
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: mongodump of mongodb\.microservices-dev\.svc\.cluster\.local:27017 failed/);
            assert.deepEqual(fs.readdirSync(backupDir), []);
        });

        it("fails on an empty archive", () => {
            fs.writeFileSync(path.join(fake, "dump.empty"), "");
            const r = run("dump");
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: mongodump wrote an empty archive/);
            assert.ok(!fs.existsSync(path.join(backupDir, "name")));
        });

        it("refuses to start without credentials", () => {
            const r = run("dump", { MONGO_PASSWORD: undefined });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /MONGO_PASSWORD/);
            assert.ok(!fs.existsSync(path.join(fake, "mongodump.args")));
        });
    });

    describe("upload", () => {
        it("exchanges the federated token for a storage token and puts the archive as a new blob", () => {
            const name = dumped();
            const r = run("upload");
            assert.equal(r.status, 0, r.stderr);
            assert.equal(
                read("token.url").trim(),
                "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token",
            );
            assert.deepEqual(read("form.seen").trim().split("\n"), [
                "client_id=00000000-1111-2222-3333-444444444444",
                "scope=https://storage.azure.com/.default",
                "grant_type=client_credentials",
                "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                `client_assertion@${path.join(fake, "sa-token")}`,
            ]);
            assert.equal(read("assertion.seen"), FEDERATED_TOKEN);
            assert.equal(read("put.url").trim(), `${CONTAINER_URL}/${name}`);
            assert.equal(read("uploaded"), "BSON-ARCHIVE-BYTES");
            const headers = read("headers.seen").trim().split("\n");
            for (const h of ["Authorization: Bearer eyJ.ACCESS-TOKEN", "x-ms-blob-type: BlockBlob", "If-None-Match: *"])
                assert.ok(headers.includes(h), `${h} not in ${headers.join(" | ")}`);
            assert.ok(headers.some((h) => /^x-ms-version: \d{4}-\d{2}-\d{2}$/.test(h)));
            assert.match(r.stderr, new RegExp(`uploaded ${CONTAINER_URL}/${name}`));
        });

        it("passes neither token as an argument and leaves no copy of the access token", () => {
            dumped();
            assert.equal(run("upload").status, 0);
            const args = read("curl.args");
            assert.ok(!args.includes("FEDERATED-SA-TOKEN"), "federated token on a command line");
            assert.ok(!args.includes("ACCESS-TOKEN"), "access token on a command line");
            assert.deepEqual(fs.readdirSync(tmp), []);
        });

        it("never overwrites: an existing blob of that name fails the run", () => {
            dumped();
            fs.writeFileSync(path.join(fake, "put.status"), "409");
            const r = run("upload");
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: .* already exists; a backup is never overwritten/);
        });

        it("fails with Azure's answer when the upload is refused", () => {
            dumped();
            fs.writeFileSync(path.join(fake, "put.status"), "403");
            const r = run("upload");
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: Azure Storage refused the upload \(HTTP 403\): <Error><Code>AuthorizationPermissionMismatch/);
        });

        it("retries a refused token exchange, then fails with Entra ID's reason and uploads nothing", () => {
            dumped();
            fs.writeFileSync(path.join(fake, "token.status"), "400");
            const r = run("upload", { WAIT_ATTEMPTS: "3" });
            assert.notEqual(r.status, 0);
            assert.equal((r.stderr.match(/Entra ID refused the token exchange \(HTTP 400\): AADSTS70021/g) ?? []).length, 3);
            assert.match(r.stderr, /FAILED: no access token for Azure Storage/);
            assert.ok(!fs.existsSync(path.join(fake, "put.url")));
        });

        it("fails when there is no dump to upload", () => {
            const r = run("upload");
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: no dump to upload/);
            assert.ok(!fs.existsSync(path.join(fake, "curl.args")));
        });

        it("fails, naming the cause, in a pod without workload identity", () => {
            dumped();
            const r = run("upload", { AZURE_FEDERATED_TOKEN_FILE: undefined });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /AZURE_FEDERATED_TOKEN_FILE is not set: is the pod labelled azure.workload.identity\/use=true\?/);
        });

        it("refuses a dump larger than one Put Blob takes", () => {
            dumped();
            const r = run("upload", { MAX_PUT_BYTES: "5" });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /FAILED: the dump is 18 bytes, more than one Put Blob takes \(5\)/);
            assert.ok(!fs.existsSync(path.join(fake, "curl.args")));
        });
    });

    it("knows only its two steps", () => {
        const r = run("restore");
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /usage: .* dump\|upload/);
    });
});
