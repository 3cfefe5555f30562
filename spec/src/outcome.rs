//! (filled in by the reference work; see spec/README.md)
