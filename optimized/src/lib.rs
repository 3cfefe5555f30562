//! `lockstep-optimized`: the engine people run. It is filled by the optimized-engine issues
//! (compact values, tracing GC, inline-cached send, then threads under STM, then a JIT).
//! Until then it is empty, and `lockstep run --engine optimized` says it is not built yet.
