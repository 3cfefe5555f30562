//! lockstep-tests: the conformance and differential suite (tests/README.md).
