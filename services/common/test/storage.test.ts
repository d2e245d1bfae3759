import { storageContract } from "./storage-contract";
import { memoryStorage } from "./support";

storageContract(memoryStorage());
