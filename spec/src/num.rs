//! (filled in by the foundation work; see spec/README.md)
