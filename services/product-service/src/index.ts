// Entry point of the image: node dist/index.js.
import { runService } from "@aksplatform/service-common";
import { productService } from "./products";

runService(productService);
