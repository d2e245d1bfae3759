// The program's config mapped to each layer's args (index.ts composes the layers with them).
import { AZURE_LAYER_CONFIG, type AzureLayerArgs } from "./azure/layer";
import type { PlatformConfig } from "./config";
import type { ClusterFoundation } from "./foundation";
import { pickConfig } from "./layer";
import { LOCAL_LAYER_CONFIG, type LocalLayerArgs } from "./local/layer";
import { PLATFORM_LAYER_CONFIG, type PlatformHandles, type PlatformLayerArgs } from "./platform/layer";
import { WORKLOADS_LAYER_CONFIG, type WorkloadsLayerArgs } from "./workloads/layer";

export interface LayerArgs {
    readonly azure: AzureLayerArgs;
    readonly local: LocalLayerArgs;
    readonly platform: (foundation: ClusterFoundation) => PlatformLayerArgs;
    readonly workloads: (foundation: ClusterFoundation, platform: PlatformHandles) => WorkloadsLayerArgs;
}

/**
 * Each layer's args out of the program's config: the settings it reads (its *_LAYER_CONFIG list) and
 * what it stands on. Another program composes the same components with args of its own.
 */
export function layerArgs(cfg: PlatformConfig): LayerArgs {
    return {
        azure: pickConfig(cfg, AZURE_LAYER_CONFIG),
        local: pickConfig(cfg, LOCAL_LAYER_CONFIG),
        platform: (foundation: ClusterFoundation): PlatformLayerArgs => ({ ...pickConfig(cfg, PLATFORM_LAYER_CONFIG), foundation }),
        workloads: (foundation: ClusterFoundation, platform: PlatformHandles): WorkloadsLayerArgs => ({
            ...pickConfig(cfg, WORKLOADS_LAYER_CONFIG),
            foundation,
            platform,
        }),
    };
}
