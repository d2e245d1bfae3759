import * as pulumi from "@pulumi/pulumi";
import type { AppSecretName, PemPair } from "../foundation";
import { generatedPassword, ingressCertificate } from "../generated";

export interface LocalSecretsArgs {
    /** Host the ingress gateway serves; the generated certificate is for it. */
    readonly ingressHost: string;
    /** Environment, named in the generated certificate's subject. */
    readonly environment: string;
    /** A configured certificate and key for ingressHost. Default: a generated CA and the server certificate it signs. */
    readonly ingressTls?: PemPair;
}

/**
 * The values a stack without Azure generates where Key Vault would hold them: the application secrets,
 * MongoDB's root password and the ingress certificate. Every value is a Pulumi secret and lives only in
 * the stack's (encrypted) state and the cluster's Secrets.
 */
export class LocalSecrets extends pulumi.ComponentResource {
    /** The application secrets by Key Vault name, as the services' keyvault-secrets Secret carries them. */
    readonly appSecretValues: Readonly<Record<AppSecretName, pulumi.Output<string>>>;
    /** MongoDB's root password. */
    readonly mongoRootPassword: pulumi.Output<string>;
    /** The ingress gateway's PEM certificate and key (the key secret). */
    readonly ingressTls: PemPair;

    constructor(name: string, args: LocalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:local:LocalSecrets", name, {}, opts);
        const child = { parent: this };

        // No Application Insights without Azure. The keys stay, with empty values: the chart reads every
        // key of the Secret (a missing one would stop the pod from starting), empty is the plain "not
        // configured", and a made-up value would send telemetry to an endpoint that rejects it.
        const noTelemetry = pulumi.secret("");
        this.appSecretValues = {
            "applicationinsights-connection-string": noTelemetry,
            "applicationinsights-instrumentation-key": noTelemetry,
            "database-password": generatedPassword(`${name}-database-password`, child),
            "api-key": generatedPassword(`${name}-api-key`, child),
        };
        this.mongoRootPassword = generatedPassword(`${name}-mongodb-root-password`, child);
        this.ingressTls = ingressCertificate(
            `${name}-ingress-tls`,
            { host: args.ingressHost, environment: args.environment, configured: args.ingressTls },
            child,
        );
        this.registerOutputs({ appSecretValues: this.appSecretValues, mongoRootPassword: this.mongoRootPassword });
    }
}
