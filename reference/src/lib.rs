//! The reference interpreter (filled by the reference-interpreter issue).
