/** Paths of the generated documents. */
export declare const readmePath: string;
export declare const machineDocPath: string;
/** The README's errors table, in Markdown. */
export declare function errorsTable(): string;
/** The README with its errors table regenerated. */
export declare function readmeWithErrors(readme: string): string;
/** The Mermaid state diagram of the payout machine. */
export declare function machineDiagram(): string;
/** docs/machine.md, whole. */
export declare function machineDoc(): string;
