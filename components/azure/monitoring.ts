import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as pulumi from "@pulumi/pulumi";

export interface MonitoringArgs {
    /** Resource group that holds the workspace and Application Insights. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    readonly location: pulumi.Input<string>;
    /** Log Analytics workspace name. */
    readonly workspaceName: string;
    /** Application Insights component name. */
    readonly appInsightsName: string;
    /** Log retention in days (30-730). */
    readonly retentionDays: number;
    /** Tags on both resources. */
    readonly tags: pulumi.Input<Record<string, string>>;
    /** Keep the workspace from being deleted (prod). Default false. */
    readonly protect?: boolean;
}

/** A Log Analytics workspace and a workspace-based Application Insights component writing to it. */
export class Monitoring extends pulumi.ComponentResource {
    /** ARM resource ID of the Log Analytics workspace. */
    readonly workspaceId: pulumi.Output<string>;
    /** Application Insights connection string (secret). */
    readonly connectionString: pulumi.Output<string>;
    /** Application Insights instrumentation key (secret). */
    readonly instrumentationKey: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:Monitoring", name, {}, opts);

        const workspace = new operationalinsights.Workspace(
            `${name}-logs`,
            {
                workspaceName: args.workspaceName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
                retentionInDays: args.retentionDays,
                tags: args.tags,
            },
            { parent: this, protect: args.protect },
        );

        const appInsights = new applicationinsights.Component(
            `${name}-appi`,
            {
                resourceName: args.appInsightsName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: "web",
                applicationType: applicationinsights.ApplicationType.Web,
                ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
                workspaceResourceId: workspace.id,
                tags: args.tags,
            },
            // The provider does not know these two fields are credentials.
            { parent: this, additionalSecretOutputs: ["connectionString", "instrumentationKey"] },
        );

        this.workspaceId = workspace.id;
        this.connectionString = pulumi.secret(appInsights.connectionString);
        this.instrumentationKey = pulumi.secret(appInsights.instrumentationKey);
        this.registerOutputs({
            workspaceId: this.workspaceId,
            connectionString: this.connectionString,
            instrumentationKey: this.instrumentationKey,
        });
    }
}
