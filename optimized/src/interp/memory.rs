//! Objects, arrays and strings. Mutable words (slots, array length, capacity, storage and
//! elements) go through the mode (`Exec::load`, `mode.store`): plain in a serial run, the STM's
//! barriers in a parallel one.
//!
//! Every value these handlers pass to an `unsafe fn` (`Exec::load`, `mode.store`, the heap's
//! accessors, `ops`) is live: a register's value (engine invariant: ARCHITECTURE.md), or a word
//! read in this transaction (cells are freed only at safepoints between transactions).

use super::{Exec, Exit, Flow};
use crate::heap::{ARRAY_CAP, ARRAY_LEN, ARRAY_STORAGE, HEADER_WORDS};
use crate::mode::Mode;
use crate::ops::{self, Fault};
use crate::value::*;
use lockstep_spec::limits::{MAX_ARRAY_LEN, MAX_STRING_LEN};
use lockstep_spec::trap::detail;
use lockstep_spec::{num, TrapKind};

/// The index `i` into array `a` of length `len` (read by the caller through its mode).
///
/// # Safety
/// `a` and `i` are immediates or live cells (as for `ops`).
unsafe fn array_index(heap: &crate::heap::Heap, what: &str, a: Value, i: Value, len: usize) -> Result<usize, Fault> {
    // SAFETY (every block): the caller's contract.
    if !unsafe { heap.is_array(a) } {
        let t = unsafe { ops::type_name(heap, a) };
        return ops::trap(TrapKind::TypeError, format!("{what} expects an array, got {t}"));
    }
    let Some(k) = (unsafe { ops::int(heap, i) }) else {
        let t = unsafe { ops::type_name(heap, i) };
        return ops::trap(TrapKind::TypeError, format!("{what} expects an int index, got {t}"));
    };
    if k < 0 || k as u64 >= len as u64 {
        return ops::trap(TrapKind::IndexOutOfBounds, format!("index {k} outside an array of length {len}"));
    }
    Ok(k as usize)
}

impl<const STATS: bool, const JIT: bool, M: Mode> Exec<'_, STATS, JIT, M> {
    /// A type error naming what `what` expected and the type of `v`.
    ///
    /// # Safety
    /// `v` is an immediate or a live cell.
    #[inline(always)]
    unsafe fn type_error(&mut self, what: &str, v: Value) -> Exit {
        // SAFETY: the caller's contract.
        let detail = format!("{what}, got {}", unsafe { ops::type_name(&self.cx.heap, v) });
        self.trap(TrapKind::TypeError, None, detail)
    }

    /// The type error of `op` (`getf`, `setf`) on `v`, which is no instance of `class`.
    ///
    /// # Safety
    /// As for [`Self::instance`].
    #[cold]
    unsafe fn not_an_instance(&mut self, op: &str, v: Value, class: u32) -> Exit {
        // SAFETY: the caller's contract; an object's class is one `new` was given, checked by
        // the verifier [verify.class-range].
        let (got, got_class) = unsafe { (ops::type_name(&self.cx.heap, v), self.cx.heap.object_class(v)) };
        let prog = self.prog;
        let got_class = got_class.map(|c| prog.classes[c as usize].name.as_str());
        let detail = detail::needs_instance(op, &prog.classes[class as usize].name, got, got_class);
        self.trap(TrapKind::TypeError, None, detail)
    }

    /// Whether `v` is an instance of `class` or of a subclass: its class when it is.
    ///
    /// # Safety
    /// `v` is an immediate or a live cell, and `class` a class index of the program (an operand
    /// the verifier checked [verify.class-range]).
    #[inline(always)]
    unsafe fn instance(&self, v: Value, class: u32) -> bool {
        // SAFETY: the caller's contract; `c` is the class of a live object, which `new` made
        // with a checked class operand.
        match unsafe { self.cx.heap.object_class(v) } {
            Some(c) => c == class || unsafe { self.prog.is_subclass(c, class) },
            None => false,
        }
    }

    #[inline(always)]
    pub(super) fn new_object(&mut self, d: u16, class: u32) -> Flow {
        let r = self.cx.heap.new_object(class, self.prog.nfields[class as usize] as usize);
        let v = self.alloc(r)?;
        self.w.set(d, v);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn getf(&mut self, d: u16, o: u16, slot: u16, class: u32) -> Flow {
        let v = self.w.get(o);
        // SAFETY (every block of this method): a register value and a verified class operand;
        // the slot is below the field count of `class` [verify.field-slot], which an instance of
        // `class` or a subclass has at least.
        if !unsafe { self.instance(v, class) } {
            return Err(unsafe { self.not_an_instance("getf", v, class) });
        }
        let x = unsafe { self.load(v, HEADER_WORDS + slot as usize) }?;
        self.w.set(d, x);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn setf(&mut self, o: u16, s: u16, slot: u16, class: u32) -> Flow {
        let v = self.w.get(o);
        // SAFETY (every block of this method): as in `getf`; the stored value is a register's.
        if !unsafe { self.instance(v, class) } {
            return Err(unsafe { self.not_an_instance("setf", v, class) });
        }
        unsafe { self.mode.store(v, HEADER_WORDS + slot as usize, self.w.get(s)) };
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn instance_of(&mut self, d: u16, o: u16, class: u32) -> Flow {
        // SAFETY: a register value and a verified class operand.
        let r = unsafe { self.instance(self.w.get(o), class) };
        self.w.set(d, bool_value(r));
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn anew(&mut self, d: u16, len: u16) -> Flow {
        let v = self.w.get(len);
        // SAFETY (both blocks): a register value.
        let Some(n) = (unsafe { ops::int(&self.cx.heap, v) }) else {
            return Err(unsafe { self.type_error("anew expects an int length", v) });
        };
        if n < 0 || n as u64 > MAX_ARRAY_LEN {
            return Err(self.trap(
                TrapKind::BadLength,
                None,
                format!("array length {n} is outside 0..={MAX_ARRAY_LEN}"),
            ));
        }
        let r = self.cx.heap.new_array(n as usize);
        let a = self.alloc(r)?;
        self.w.set(d, a);
        self.next();
        Ok(())
    }

    /// The length of `av` if it is an array (else 0: `array_index` then traps).
    ///
    /// # Safety
    /// `av` is an immediate or a live cell.
    #[inline(always)]
    unsafe fn len_if_array(&mut self, av: Value) -> Result<usize, Exit> {
        // SAFETY: the caller's contract; the length word is read only from an array.
        Ok(if unsafe { self.cx.heap.is_array(av) } { unsafe { self.load(av, ARRAY_LEN) }? as usize } else { 0 })
    }

    #[inline(always)]
    pub(super) fn aget(&mut self, d: u16, a: u16, i: u16) -> Flow {
        let (av, iv) = (self.w.get(a), self.w.get(i));
        // SAFETY (every block of this method): register values; `av` is an array once
        // `array_index` accepted it, and its storage (read in this transaction, consistent with
        // the length [stm.read-consistent]) holds more than `k` elements.
        let len = unsafe { self.len_if_array(av) }?;
        let k = unsafe { array_index(&self.cx.heap, "aget", av, iv, len) };
        let k = self.check(k)?;
        let storage = unsafe { self.load(av, ARRAY_STORAGE) }?;
        let x = unsafe { self.load(storage, HEADER_WORDS + k) }?;
        self.w.set(d, x);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn aset(&mut self, a: u16, i: u16, s: u16) -> Flow {
        let (av, iv) = (self.w.get(a), self.w.get(i));
        // SAFETY (every block of this method): as in `aget`; the stored value is a register's.
        let len = unsafe { self.len_if_array(av) }?;
        let k = unsafe { array_index(&self.cx.heap, "aset", av, iv, len) };
        let k = self.check(k)?;
        let storage = unsafe { self.load(av, ARRAY_STORAGE) }?;
        unsafe { self.mode.store(storage, HEADER_WORDS + k, self.w.get(s)) };
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn alen(&mut self, d: u16, a: u16) -> Flow {
        let av = self.w.get(a);
        // SAFETY (every block of this method): a register value, an array once checked.
        if !unsafe { self.cx.heap.is_array(av) } {
            return Err(unsafe { self.type_error("alen expects an array", av) });
        }
        let len = unsafe { self.load(av, ARRAY_LEN) }?;
        self.w.set(d, small_int(len as i64).unwrap_or(NIL));
        self.next();
        Ok(())
    }

    /// `apush`: the steps of `Heap::array_push`, each mutable word through the mode (fresh
    /// storage is private to the transaction: the barriers do not log it).
    #[inline(always)]
    pub(super) fn apush(&mut self, a: u16, s: u16) -> Flow {
        let av = self.w.get(a);
        // SAFETY (every block of this method): register values; `av` is an array once checked;
        // `storage` (read in this transaction) and `fresh` (just allocated) are storage cells with
        // room for `cap` and `new_cap` elements.
        if !unsafe { self.cx.heap.is_array(av) } {
            return Err(unsafe { self.type_error("apush expects an array", av) });
        }
        let len = unsafe { self.load(av, ARRAY_LEN) }? as usize;
        if len as u64 >= MAX_ARRAY_LEN {
            return Err(self.trap(
                TrapKind::BadLength,
                None,
                format!("an array may hold at most {MAX_ARRAY_LEN} elements"),
            ));
        }
        let cap = unsafe { self.load(av, ARRAY_CAP) }? as usize;
        let mut storage = unsafe { self.load(av, ARRAY_STORAGE) }?;
        if len == cap {
            let new_cap = (cap * 2).max(4);
            let r = self.cx.heap.new_storage(new_cap);
            let fresh = self.alloc(r)?;
            for j in 0..len {
                let e = unsafe { self.load(storage, HEADER_WORDS + j) }?;
                unsafe { self.mode.store(fresh, HEADER_WORDS + j, e) };
            }
            unsafe {
                self.mode.store(av, ARRAY_STORAGE, fresh);
                self.mode.store(av, ARRAY_CAP, new_cap as u64);
            }
            storage = fresh;
        }
        unsafe {
            self.mode.store(storage, HEADER_WORDS + len, self.w.get(s));
            self.mode.store(av, ARRAY_LEN, len as u64 + 1);
        }
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn concat(&mut self, d: u16, a: u16, b: u16) -> Flow {
        let (x, y) = (self.w.get(a), self.w.get(b));
        // SAFETY (every block of this method): register values.
        let (lx, ly) = match unsafe { (self.cx.heap.str_bytes(x), self.cx.heap.str_bytes(y)) } {
            (Some(p), Some(q)) => (p.len(), q.len()),
            _ => {
                let detail = format!(
                    "concat expects two strings, got {} and {}",
                    unsafe { ops::type_name(&self.cx.heap, x) },
                    unsafe { ops::type_name(&self.cx.heap, y) }
                );
                return Err(self.trap(TrapKind::TypeError, None, detail));
            }
        };
        if (lx + ly) as u64 > MAX_STRING_LEN {
            return Err(self.trap(
                TrapKind::BadLength,
                None,
                format!("a string may hold at most {MAX_STRING_LEN} bytes"),
            ));
        }
        let r = unsafe { self.cx.heap.concat_strings(x, y) };
        let r = self.alloc(r)?;
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn slen(&mut self, d: u16, s: u16) -> Flow {
        let v = self.w.get(s);
        // SAFETY (both blocks): a register value.
        let Some(n) = (unsafe { self.cx.heap.str_bytes(v) }).map(|b| b.len()) else {
            return Err(unsafe { self.type_error("slen expects a string", v) });
        };
        self.w.set(d, small_int(n as i64).unwrap_or(NIL));
        self.next();
        Ok(())
    }

    /// The length of `v` if it is an array, read through the mode, for display.
    ///
    /// # Safety
    /// `v` is an immediate or a live cell.
    #[inline(always)]
    pub(super) unsafe fn display_len(&mut self, v: Value) -> Result<Option<usize>, Exit> {
        // SAFETY: the caller's contract; the length word is read only from an array.
        Ok(if unsafe { self.cx.heap.is_array(v) } { Some(unsafe { self.load(v, ARRAY_LEN) }? as usize) } else { None })
    }

    #[inline(always)]
    pub(super) fn tostr(&mut self, d: u16, a: u16) -> Flow {
        let v = self.w.get(a);
        // SAFETY (both blocks): a register value.
        let alen = unsafe { self.display_len(v) }?;
        let buf = &mut self.cx.scratch;
        buf.clear();
        unsafe { ops::display(self.prog, &self.cx.heap, self.mode.names(), v, alen, buf) };
        let r = self.cx.heap.new_string(buf);
        let r = self.alloc(r)?;
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    /// `stoi` (`FLOAT` false) or `stof`: a number, or nil when the string is not one.
    #[inline(always)]
    fn parse<const FLOAT: bool>(&mut self, d: u16, s: u16) -> Flow {
        let v = self.w.get(s);
        // SAFETY (both blocks): a register value.
        let Some(bytes) = (unsafe { self.cx.heap.str_bytes(v) }) else {
            return Err(unsafe {
                self.type_error(if FLOAT { "stof expects a string" } else { "stoi expects a string" }, v)
            });
        };
        let r = if FLOAT {
            num::parse_float(bytes).map(|f| ops::make_float(&mut self.cx.heap, f))
        } else {
            num::parse_int(bytes).map(|i| ops::make_int(&mut self.cx.heap, i))
        };
        let r = match r {
            Some(r) => self.alloc(r)?,
            None => NIL,
        };
        self.w.set(d, r);
        self.next();
        Ok(())
    }

    #[inline(always)]
    pub(super) fn stoi(&mut self, d: u16, s: u16) -> Flow {
        self.parse::<false>(d, s)
    }

    #[inline(always)]
    pub(super) fn stof(&mut self, d: u16, s: u16) -> Flow {
        self.parse::<true>(d, s)
    }
}
