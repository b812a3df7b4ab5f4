/** Waits `ms` of real time: for tests and benchmarks that pace real processes, never a ManualClock. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
