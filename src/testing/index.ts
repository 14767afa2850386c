export {
  type PayoutStoreContractOptions,
  payoutStoreContract,
  type StoreFactory,
} from "./payout-store-contract.js";
