import { memoryStorage } from "../../common/test/support";
import { productContract } from "./contract";

productContract(memoryStorage());
