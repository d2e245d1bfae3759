// Entry point of the image: node dist/index.js.
import { runService } from "@aksplatform/service-common";
import { orderService } from "./orders";

runService(orderService);
