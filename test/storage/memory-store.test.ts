import { createMemoryStore } from "../../src/storage/memory-store.js";
import { payoutStoreContract } from "../contract/payout-store.contract.js";

payoutStoreContract("createMemoryStore", async (now) => createMemoryStore({ now }));
