//! A trap before it is located: what went wrong, without where. The machine adds the thread,
//! function and instruction when it turns a `Fault` into a [`TrapInfo`](lockstep_spec::outcome::TrapInfo),
//! so the instruction code need not carry its location around.

use lockstep_spec::outcome::TrapInfo;
use lockstep_spec::TrapKind;
use std::sync::Arc;

///
/// Boxed: every instruction returns a `Result<_, Fault>`, and a trap is rare, so the `Ok` path
/// should not carry the ~80 bytes of a trap's texts. (Copying them through every instruction's
/// result was the larger part of the reference's time per instruction.)
#[derive(Clone, Debug)]
pub(crate) struct Fault(Box<FaultData>);

#[derive(Clone, Debug)]
pub(crate) struct FaultData {
    pub kind: TrapKind,
    /// The semantic message (see `TrapInfo::message`).
    pub message: Option<String>,
    /// The human explanation (see `TrapInfo::detail`).
    pub detail: String,
    /// For `thread_trapped`, the joined thread's trap (see `TrapInfo::joined`).
    pub joined: Option<Arc<TrapInfo>>,
}

impl Fault {
    #[cold]
    pub fn new(kind: TrapKind, detail: impl Into<String>) -> Fault {
        Fault(Box::new(FaultData { kind, message: None, detail: detail.into(), joined: None }))
    }

    #[cold]
    pub fn with_message(kind: TrapKind, message: String, detail: impl Into<String>) -> Fault {
        Fault(Box::new(FaultData { kind, message: Some(message), detail: detail.into(), joined: None }))
    }

    /// What went wrong, taken out of the box.
    pub fn into_data(self) -> FaultData {
        *self.0
    }

    /// Sets the joined thread's trap (`thread_trapped`).
    pub fn set_joined(&mut self, joined: Arc<TrapInfo>) {
        self.0.joined = Some(joined);
    }

    #[cold]
    pub fn type_error(what: impl Into<String>) -> Fault {
        Fault::new(TrapKind::TypeError, what)
    }
}
