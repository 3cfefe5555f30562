//! The verifier: checks every rule of `spec/verifier.md` and produces a [`VerifiedModule`].

use crate::module::Module;
use std::ops::Deref;

/// A module that satisfies every verifier rule. Only [`verify`] makes one, so an engine that
/// receives a `VerifiedModule` may rely on the rules without checking them again.
#[derive(Clone, Debug)]
pub struct VerifiedModule {
    module: Module,
}

impl VerifiedModule {
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn into_module(self) -> Module {
        self.module
    }
}

impl Deref for VerifiedModule {
    type Target = Module;
    fn deref(&self) -> &Module {
        &self.module
    }
}
