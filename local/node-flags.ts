/**
 * The V8 flags `npm start` gives the server (package.json's start script; test/unit/start-flags.test.ts
 * keeps the two equal), for the benchmark and the simulation to start their servers the same way. On
 * 2 cores, V8's background GC threads fight the parse workers for the CPU: single-threaded GC costs
 * less CPU per file (ECG 21 → 16 ms, docs/PERFORMANCE.md §A).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
