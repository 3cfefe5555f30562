//! Resource limits. They are part of the semantics: every engine enforces exactly these.
//! `spec/limits.md` states them as rules; this file is their single source in code.

/// Largest module file the loader accepts, in bytes.
pub const MAX_MODULE_BYTES: usize = 32 << 20;
/// Most constants in a module.
pub const MAX_CONSTANTS: u32 = 1 << 20;
/// Most classes in a module.
pub const MAX_CLASSES: u32 = 1 << 16;
/// Most functions in a module.
pub const MAX_FUNCTIONS: u32 = 1 << 16;
/// Most instructions in one function.
pub const MAX_CODE_LEN: u32 = 1 << 20;
/// Most registers in one frame.
pub const MAX_REGS: u32 = 1024;
/// Most parameters of a function, and most arguments of a call, send or spawn.
pub const MAX_ARGS: u32 = 255;
/// Most fields of a class, inherited ones included.
pub const MAX_FIELDS: u32 = 1024;
/// Most methods a class defines.
pub const MAX_METHODS: u32 = 4096;
/// Longest superclass chain, the class itself included.
pub const MAX_CLASS_DEPTH: u32 = 64;
/// Longest name (function, class, field, method) in bytes.
pub const MAX_NAME_LEN: u32 = 255;

/// Deepest call stack of one thread, in frames (the thread's root function counts as one).
pub const MAX_CALL_DEPTH: u32 = 10_000;
/// Most threads one run creates, the main thread included.
pub const MAX_THREADS: u32 = 4096;
/// Longest string, in bytes.
pub const MAX_STRING_LEN: u64 = 1 << 24;
/// Longest array, in elements.
pub const MAX_ARRAY_LEN: u64 = 1 << 24;
/// Fuel each thread starts with when the user sets none.
pub const DEFAULT_FUEL: u64 = u64::MAX;
