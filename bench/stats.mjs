// Figures over repeated runs, shared by the cases and the report.

/** The middle value (the upper middle of an even count); the input is left as it is. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
