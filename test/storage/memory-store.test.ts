import { createMemoryStore } from "../../src/storage/memory-store.js";
import { payoutStoreContract } from "../../src/testing/index.js";

payoutStoreContract("createMemoryStore", async (now) => createMemoryStore({ now }));
