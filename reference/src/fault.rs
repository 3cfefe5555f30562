//! A trap before it is located: what went wrong, without where. The machine adds the thread,
//! function and instruction when it turns a `Fault` into a [`TrapInfo`](lockstep_spec::outcome::TrapInfo),
//! so the instruction code need not carry its location around.

use lockstep_spec::outcome::TrapInfo;
use lockstep_spec::TrapKind;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub(crate) struct Fault {
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
        Fault { kind, message: None, detail: detail.into(), joined: None }
    }

    #[cold]
    pub fn with_message(kind: TrapKind, message: String, detail: impl Into<String>) -> Fault {
        Fault { kind, message: Some(message), detail: detail.into(), joined: None }
    }

    #[cold]
    pub fn type_error(what: impl Into<String>) -> Fault {
        Fault::new(TrapKind::TypeError, what)
    }
}
