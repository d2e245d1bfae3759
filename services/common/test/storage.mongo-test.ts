// The storage contract against a real MongoDB (MONGODB_TEST_URL); fails without one.
import { storageContract } from "./storage-contract";
import { mongoStorage } from "./support";

storageContract(mongoStorage());
