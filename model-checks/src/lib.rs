//! `lockstep-model-checks`: loom models of the optimized engine's concurrency core. They are
//! written when that core exists (the model-check issue); until then this crate is empty.
