// product-service's HTTP contract against a real MongoDB (MONGODB_TEST_URL); fails without one.
import { mongoStorage } from "../../common/test/support";
import { productContract } from "./contract";

productContract(mongoStorage());
