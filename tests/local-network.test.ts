// Issue 19: the local stack's NetworkPolicies name the existing cluster's own pod and Service ranges
// and API server port (config local.podCidr, local.serviceCidr, local.apiServerPort; defaults kind's).
// Expectations come from each distribution's documented defaults, not from clusterNetwork:
// kind pkg/apis/config/v1alpha4/default.go (10.244.0.0/16, 10.96.0.0/16) and
// pkg/cluster/internal/providers/common/constants.go (6443); k3s's server flags --cluster-cidr
// 10.42.0.0/16 and --service-cidr 10.43.0.0/16 (k3d runs k3s), API 6443; minikube's apiserver port 8443.
import { strict as assert } from "assert";
import { parseConfig } from "../components/config";
import { clusterNetwork } from "../components/workloads/networkPolicies";
import { cidrInside } from "../policy/policies";
import { PROJECT, stackRaw, withOverrides } from "./harness";

type Block = { cidr: string; except?: readonly string[] };
/** Whether an address matches a list of ipBlocks (except honoured). */
const matches = (blocks: readonly Block[], ip: string) =>
    blocks.some((b) => cidrInside(`${ip}/32`, b.cidr) && !(b.except ?? []).some((e) => cidrInside(`${ip}/32`, e)));

function localNetwork(raw: Parameters<typeof withOverrides>[1]) {
    const cfg = parseConfig(withOverrides(stackRaw("local"), raw), PROJECT, "local");
    return clusterNetwork({ target: "existing", ...cfg.localCluster });
}

describe("the local stack's cluster network (existing cluster)", () => {
    it("defaults to kind's: pods and Services are never nodes or the API server; the API on 6443", () => {
        const n = localNetwork({});
        for (const ip of ["10.244.1.7", "10.96.0.1"]) {
            assert.ok(!matches(n.apiServer, ip), `${ip} counted as the API server`);
            assert.ok(!matches(n.internet, ip), `${ip} counted as the internet`);
        }
        assert.ok(matches(n.apiServer, "172.18.0.2"), "kind's control-plane node (Docker network)");
        assert.ok(n.apiServerPorts.includes(6443));
    });

    it("on k3d (local.podCidr 10.42.0.0/16, local.serviceCidr 10.43.0.0/16) no pod or Service counts as a node", () => {
        const n = localNetwork({ "local.podCidr": "10.42.0.0/16", "local.serviceCidr": "10.43.0.0/16" });
        for (const ip of ["10.42.0.9", "10.43.0.1"]) {
            assert.ok(!matches(n.apiServer, ip), `${ip} counted as the API server`);
            assert.ok(
                !matches(
                    n.apiServerPath.flatMap((p) => ("ipBlock" in p ? [p.ipBlock] : [])),
                    ip,
                ),
                `${ip} may call the webhook`,
            );
        }
    });

    it("on minikube (local.apiServerPort 8443) allows the API at 8443", () => {
        assert.ok(localNetwork({ "local.apiServerPort": 8443 }).apiServerPorts.includes(8443));
    });

    it("rejects a bad range, a bad port and overlapping ranges, naming each key, in one round", () => {
        const fails = (raw: Parameters<typeof withOverrides>[1]) => {
            try {
                parseConfig(withOverrides(stackRaw("local"), raw), PROJECT, "local");
            } catch (e) {
                return (e as Error).message;
            }
            assert.fail(`accepted ${JSON.stringify(raw)}`);
        };
        const message = fails({ "local.podCidr": "10.42.0.0", "local.apiServerPort": 70000 });
        for (const part of ["local.podCidr", '"10.42.0.0"', "local.apiServerPort", "70000"]) assert.ok(message.includes(part), message);
        const overlap = fails({ "local.podCidr": "10.42.0.0/16", "local.serviceCidr": "10.42.128.0/17" });
        assert.match(overlap, /local\.serviceCidr: "10\.42\.128\.0\/17" overlaps local\.podCidr/);
    });

    it("is rejected on an Azure stack, where nothing reads it", () => {
        assert.throws(
            () => parseConfig(withOverrides(stackRaw("dev"), { "local.podCidr": "10.42.0.0/16" }), PROJECT, "dev"),
            /local\.podCidr/,
        );
    });
});
