export { feedStoreContract } from "./feed-store-contract.js";
export {
  type PayoutStoreContractOptions,
  payoutStoreContract,
  type StoreFactory,
} from "./payout-store-contract.js";
