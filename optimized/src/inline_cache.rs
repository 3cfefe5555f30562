//! Inline caches for `send`, kept outside the code (MoarVM style): one entry per send site in a
//! side table, numbered in instruction order when the module is pre-decoded (the site number is
//! stored in the `Send` op, so the table is indexed by instruction position without a search).
//!
//! A site goes uninitialised -> monomorphic -> polymorphic (up to [`POLY_MAX`] receiver classes,
//! probed in insertion order) -> megamorphic, where it consults one global method cache (a
//! direct-mapped table keyed by class and selector, as in Cog's open PICs). Only found methods
//! are cached: a `no_such_method` lookup is repeated each time, which costs nothing that
//! matters because it traps.
//!
//! The caches, with their hit and miss counters, belong to one OS thread (each `Context` has
//! its own): never shared, never read or written inside a transaction's logs, so they cause no
//! conflicts and need no atomics. A parallel run's threads each warm their own.
//!
//! [`Site`] and [`IcState`] have a defined layout (`#[repr(C)]`, `#[repr(C, u32)]`): compiled code
//! reads a site directly (`DESIGN.md`, "send and inline caches"; offsets checked by the tests).

use crate::code::Program;

pub const POLY_MAX: usize = 4;
const GLOBAL_SIZE: usize = 1024;

/// A receiver class and the function `send` calls for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Entry {
    pub class: u32,
    pub func: u32,
}

/// A site's state: the tag is a `u32` at offset 0 (0 uninitialized, 1 monomorphic, 2
/// polymorphic, 3 megamorphic), the fields follow from offset 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, u32)]
pub enum IcState {
    Uninit,
    Mono { class: u32, func: u32 },
    Poly { n: u8, entries: [Entry; POLY_MAX] },
    Mega,
}

#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Site {
    pub state: IcState,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Clone, Copy)]
struct GlobalEntry {
    class: u32,
    selector: u32,
    func: u32,
}

const EMPTY: GlobalEntry = GlobalEntry { class: u32::MAX, selector: u32::MAX, func: 0 };

pub struct InlineCaches {
    pub sites: Vec<Site>,
    global: Box<[GlobalEntry]>,
}

/// Inline-cache figures for `--stats`: how many send sites saw one receiver class, a few, or
/// many, which says how much a send costs. Under the STM every OS thread keeps its own caches
/// (see the module documentation), and the state counts add up every thread's: they sum to
/// `sites` times the number of threads, not to `sites`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcStats {
    /// Send sites in the program.
    pub sites: usize,
    /// Sites whose cache never filled: not executed, answered only by compiled code's
    /// class-table dispatch (which leaves the cache as it was), or never finding a method.
    pub uninitialized: usize,
    /// Sites that cached one receiver class: a send there is one compare.
    pub monomorphic: usize,
    /// Sites that cached 2 to `POLY_MAX` (4) classes, probed in turn.
    pub polymorphic: usize,
    /// Sites that met more classes and consult the global method cache.
    pub megamorphic: usize,
    /// Sends answered from a cache (the site's or, for a megamorphic site, the global one).
    pub hits: u64,
    /// Sends that looked the method up in the class table. Compiled code that dispatches on the
    /// class table itself (`jit/x64.rs`) counts a hit at the site instead, so that hits plus
    /// misses stays the number of sends.
    pub misses: u64,
}

impl InlineCaches {
    pub fn new(sites: usize) -> InlineCaches {
        InlineCaches {
            sites: vec![Site { state: IcState::Uninit, hits: 0, misses: 0 }; sites],
            global: vec![EMPTY; GLOBAL_SIZE].into_boxed_slice(),
        }
    }

    /// The function `send` at `site` calls for a receiver of class `class`, or `None` when the
    /// class has no such method.
    #[inline(always)]
    pub fn lookup(&mut self, prog: &Program, site: u32, class: u32) -> Option<u32> {
        let s = &mut self.sites[site as usize];
        match s.state {
            // The planted bug `ic_skips_class_check` trusts a monomorphic entry for any class.
            IcState::Mono { class: c, func } if c == class || mutant!(ic_skips_class_check) => {
                s.hits += 1;
                return Some(func);
            }
            IcState::Poly { n, entries } => {
                for &Entry { class: c, func } in &entries[..n as usize] {
                    if c == class {
                        s.hits += 1;
                        return Some(func);
                    }
                }
            }
            _ => {}
        }
        self.miss(prog, site, class)
    }

    #[cold]
    #[inline(never)]
    fn miss(&mut self, prog: &Program, site: u32, class: u32) -> Option<u32> {
        let selector = prog.sites[site as usize].selector;
        let s = &mut self.sites[site as usize];
        if s.state == IcState::Mega {
            let slot = global_slot(class, selector);
            let e = self.global[slot];
            if e.class == class && e.selector == selector {
                s.hits += 1;
                return Some(e.func);
            }
            s.misses += 1;
            let func = prog.lookup(class, selector)?;
            self.global[slot] = GlobalEntry { class, selector, func };
            return Some(func);
        }
        s.misses += 1;
        let func = prog.lookup(class, selector)?;
        s.state = match s.state {
            IcState::Uninit => IcState::Mono { class, func },
            IcState::Mono { class: c0, func: f0 } => {
                let mut entries = [Entry { class: 0, func: 0 }; POLY_MAX];
                entries[0] = Entry { class: c0, func: f0 };
                entries[1] = Entry { class, func };
                IcState::Poly { n: 2, entries }
            }
            IcState::Poly { n, mut entries } if (n as usize) < POLY_MAX => {
                entries[n as usize] = Entry { class, func };
                IcState::Poly { n: n + 1, entries }
            }
            _ => IcState::Mega,
        };
        Some(func)
    }

    pub fn stats(&self) -> IcStats {
        let mut st = IcStats { sites: self.sites.len(), ..IcStats::default() };
        for s in &self.sites {
            match s.state {
                IcState::Uninit => st.uninitialized += 1,
                IcState::Mono { .. } => st.monomorphic += 1,
                IcState::Poly { .. } => st.polymorphic += 1,
                IcState::Mega => st.megamorphic += 1,
            }
            st.hits += s.hits;
            st.misses += s.misses;
        }
        st
    }
}

/// The entry of the global method cache for (`class`, `selector`).
#[inline(always)]
fn global_slot(class: u32, selector: u32) -> usize {
    (class.wrapping_mul(0x9e37_79b1) ^ selector) as usize % GLOBAL_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// `tests/tests/send_caches.rs` relies on these collisions (class 0 and class 1024 with one
    /// selector; selectors 0 and 1024 on one class): if the hash or the size changes, change
    /// that program so that it still makes entries collide.
    #[test]
    fn the_send_caches_suite_collides() {
        assert_eq!(global_slot(0, 0), global_slot(1024, 0));
        assert_eq!(global_slot(0, 0), global_slot(0, 1024));
        assert_eq!(global_slot(0, 1024), global_slot(1024, 0));
    }

    /// Where `field` lies inside `state`, in bytes.
    fn at<T>(state: &IcState, field: &T) -> usize {
        field as *const T as usize - state as *const IcState as usize
    }

    /// The tag word of `state`.
    fn tag(state: &IcState) -> u32 {
        // SAFETY: `#[repr(C, u32)]` puts the discriminant, an initialized u32, at offset 0.
        unsafe { *(state as *const IcState as *const u32) }
    }

    /// The layout `DESIGN.md` documents for compiled code: the state's tag, then its fields.
    #[test]
    fn site_layout_is_the_documented_one() {
        assert_eq!((size_of::<Entry>(), offset_of!(Entry, class), offset_of!(Entry, func)), (8, 0, 4));
        assert_eq!(size_of::<IcState>(), 40);
        assert_eq!([offset_of!(Site, state), offset_of!(Site, hits), offset_of!(Site, misses)], [0, 40, 48]);
        let states = [
            IcState::Uninit,
            IcState::Mono { class: 7, func: 9 },
            IcState::Poly { n: 2, entries: [Entry { class: 3, func: 4 }; POLY_MAX] },
            IcState::Mega,
        ];
        assert_eq!(states.iter().map(tag).collect::<Vec<_>>(), [0, 1, 2, 3]);
        if let IcState::Mono { class, func } = &states[1] {
            assert_eq!((at(&states[1], class), at(&states[1], func)), (4, 8));
        }
        if let IcState::Poly { n, entries } = &states[2] {
            assert_eq!((at(&states[2], n), at(&states[2], entries)), (4, 8));
        }
    }
}
