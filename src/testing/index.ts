export { payoutStoreContract, type StoreFactory } from "./payout-store-contract.js";
