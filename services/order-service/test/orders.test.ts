import { memoryStorage } from "../../common/test/support";
import { orderContract } from "./contract";

orderContract(memoryStorage());
