/** A probe threw: the runner stops where it stands, as a killed process would. */
export class ProbeCrash extends Error {
  constructor() {
    super("The runner was stopped by its probe (a simulated crash).");
  }
}
