//! Instructions and their operands, generated from the table in [`crate::isa`].
//!
//! [`Instr`] is the decoded, structured form every consumer works with: the reference
//! interpreter matches on it directly, the optimized engine pre-decodes it into its own compact
//! form. [`Opcode`] carries the static facts of the table (mnemonic, operand kinds, flags).
//! Generic consumers (encoder, decoder, verifier, assembler, disassembler) go through
//! [`Instr::operands`] and [`Instr::from_operands`], so they never list instructions by hand.

use std::fmt;

/// A register of the current frame. Verified: `index < function.regs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u16);

/// An index into the module's constant pool. Verified: in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConstIdx(pub u32);

/// An index into the module's function table. Verified: in range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncIdx(pub u32);

/// An index into the module's class table. Verified: in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassIdx(pub u32);

/// An instruction index inside the current function. Verified: `< code.len()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u32);

/// A field of a class: the class, and a slot index among all its fields, inherited ones first.
/// Verified: `slot < field_count(class)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldRef {
    /// The class the field is named through (the object's class or a superclass of it).
    pub class: ClassIdx,
    /// The field's index among all of `class`'s fields, inherited ones first: the slot it has
    /// in every object of `class` and of its subclasses.
    pub slot: u32,
}

/// The argument registers of a call, send or spawn. Verified: at most `limits::MAX_ARGS`.
pub type Args = Box<[Reg]>;

/// The kind of an operand, as listed in the instruction table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperandKind {
    /// A register of the current frame ([`Reg`]).
    Reg,
    /// A signed 64-bit integer written in the instruction itself.
    Imm,
    /// A constant of any type from the pool ([`ConstIdx`]).
    Const,
    /// A string constant from the pool ([`ConstIdx`]; [verify.str-const]): the method name of
    /// `send`, the message of `trap` and `assert`.
    Str,
    /// A function of the module ([`FuncIdx`]).
    Func,
    /// A class of the module ([`ClassIdx`]).
    Class,
    /// A field of a class ([`FieldRef`]).
    Field,
    /// A jump target in the current function ([`Label`]).
    Label,
    /// The argument registers of a call, send or spawn ([`Args`]).
    Args,
}

impl OperandKind {
    /// All kinds, in table order.
    pub const ALL: &'static [OperandKind] = &[
        OperandKind::Reg,
        OperandKind::Imm,
        OperandKind::Const,
        OperandKind::Str,
        OperandKind::Func,
        OperandKind::Class,
        OperandKind::Field,
        OperandKind::Label,
        OperandKind::Args,
    ];

    /// The kind's name as the instruction table and `spec/instructions.md` write it.
    pub fn name(self) -> &'static str {
        match self {
            OperandKind::Reg => "Reg",
            OperandKind::Imm => "Imm",
            OperandKind::Const => "Const",
            OperandKind::Str => "Str",
            OperandKind::Func => "Func",
            OperandKind::Class => "Class",
            OperandKind::Field => "Field",
            OperandKind::Label => "Label",
            OperandKind::Args => "Args",
        }
    }
}

/// One operand's name and kind, as listed in the instruction table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperandSpec {
    /// The operand's name in the table (`dst`, `a`, `target`, ...), which the summaries use.
    pub name: &'static str,
    /// What the operand is.
    pub kind: OperandKind,
}

/// An operand value, tagged with its kind. Variant names are the kind names of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A register.
    Reg(Reg),
    /// An immediate integer.
    Imm(i64),
    /// A constant of any type.
    Const(ConstIdx),
    /// A string constant.
    Str(ConstIdx),
    /// A function.
    Func(FuncIdx),
    /// A class.
    Class(ClassIdx),
    /// A field of a class.
    Field(FieldRef),
    /// A jump target.
    Label(Label),
    /// Argument registers.
    Args(Args),
}

impl Operand {
    /// The operand's kind, which [`Instr::from_operands`] checks against the table.
    pub fn kind(&self) -> OperandKind {
        match self {
            Operand::Reg(_) => OperandKind::Reg,
            Operand::Imm(_) => OperandKind::Imm,
            Operand::Const(_) => OperandKind::Const,
            Operand::Str(_) => OperandKind::Str,
            Operand::Func(_) => OperandKind::Func,
            Operand::Class(_) => OperandKind::Class,
            Operand::Field(_) => OperandKind::Field,
            Operand::Label(_) => OperandKind::Label,
            Operand::Args(_) => OperandKind::Args,
        }
    }
}

/// Static properties of an instruction; see the flag list in [`crate::isa`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    /// No flag: an instruction that only computes and falls through.
    pub const NONE: Flags = Flags(0);
    /// A segment boundary follows the instruction (outside atomic blocks).
    pub const BOUNDARY_AFTER: Flags = Flags(1);
    /// A segment boundary precedes the instruction (`join`).
    pub const BOUNDARY_BEFORE: Flags = Flags(2);
    /// A jump: backward when its target is at or before itself.
    pub const JUMP: Flags = Flags(4);
    /// Enters a function in the current thread, charging fuel on entry.
    pub const CALL: Flags = Flags(8);
    /// Never falls through to the next instruction.
    pub const TERMINATOR: Flags = Flags(16);

    /// These flags and `other`'s (`const`, for the generated table).
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set here.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flag names set, in a fixed order (for documentation).
    pub fn names(self) -> Vec<&'static str> {
        [
            (Flags::BOUNDARY_BEFORE, "BOUNDARY_BEFORE"),
            (Flags::BOUNDARY_AFTER, "BOUNDARY_AFTER"),
            (Flags::JUMP, "JUMP"),
            (Flags::CALL, "CALL"),
            (Flags::TERMINATOR, "TERMINATOR"),
        ]
        .iter()
        .filter(|(f, _)| self.contains(*f))
        .map(|(_, n)| *n)
        .collect()
    }
}

/// The Rust type of each operand kind (used by the generated `Instr`).
mod kind_ty {
    pub type Reg = super::Reg;
    pub type Imm = i64;
    pub type Const = super::ConstIdx;
    pub type Str = super::ConstIdx;
    pub type Func = super::FuncIdx;
    pub type Class = super::ClassIdx;
    pub type Field = super::FieldRef;
    pub type Label = super::Label;
    pub type Args = super::Args;
}

/// The operands given to [`Instr::from_operands`] do not match the opcode's operand list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperandMismatch {
    /// The instruction being built.
    pub opcode: Opcode,
    /// Index of the first operand that is missing or of the wrong kind.
    pub index: usize,
}

impl fmt::Display for OperandMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.opcode.operands().get(self.index) {
            Some(spec) => write!(
                f,
                "`{}` expects operand {} (`{}`) of kind {}",
                self.opcode.mnemonic(),
                self.index + 1,
                spec.name,
                spec.kind.name()
            ),
            None => write!(f, "`{}` takes {} operands", self.opcode.mnemonic(), self.opcode.operands().len()),
        }
    }
}

macro_rules! define_instructions {
    ( $( $Name:ident $code:literal $mn:literal { $( $field:ident : $Kind:ident ),* }
         [ $( $flag:ident ),* ] $summary:literal ; )* ) => {
        /// An opcode: the first byte of an encoded instruction.
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Opcode {
            $(
                // The summary is the table's plain text (`arr[idx]`), not links.
                #[doc = concat!("`", $mn, "`: ", $summary)]
                #[allow(rustdoc::broken_intra_doc_links)]
                $Name = $code,
            )*
        }

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[ $( Opcode::$Name, )* ];

            /// The opcode whose encoding is `byte`, if any (the decoder's first question).
            pub fn from_byte(byte: u8) -> Option<Opcode> {
                match byte {
                    $( $code => Some(Opcode::$Name), )*
                    _ => None,
                }
            }

            /// The byte that encodes the opcode in `.lsb`.
            pub fn byte(self) -> u8 {
                self as u8
            }

            /// The opcode's name in assembly text (`add`, `jmpif`).
            pub fn mnemonic(self) -> &'static str {
                match self {
                    $( Opcode::$Name => $mn, )*
                }
            }

            /// The opcode named `mnemonic` in assembly text, if any.
            pub fn from_mnemonic(mnemonic: &str) -> Option<Opcode> {
                match mnemonic {
                    $( $mn => Some(Opcode::$Name), )*
                    _ => None,
                }
            }

            /// The operands, in encoding and assembly order.
            pub fn operands(self) -> &'static [OperandSpec] {
                match self {
                    $( Opcode::$Name => &[
                        $( OperandSpec { name: stringify!($field), kind: OperandKind::$Kind }, )*
                    ], )*
                }
            }

            /// `const`, so that an engine can branch on a flag at compile time (the optimized
            /// interpreter's segment boundaries come from here).
            #[inline]
            pub const fn flags(self) -> Flags {
                match self {
                    $( Opcode::$Name => Flags::NONE $( .with(Flags::$flag) )*, )*
                }
            }

            /// One line saying what the instruction does; the full rule is in spec/.
            pub fn summary(self) -> &'static str {
                match self {
                    $( Opcode::$Name => $summary, )*
                }
            }
        }

        /// A decoded instruction with typed operands.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Instr {
            $(
                #[doc = concat!("`", $mn, "`: ", $summary)]
                #[allow(rustdoc::broken_intra_doc_links)]
                $Name { $(
                    #[doc = concat!("The `", stringify!($field), "` operand (", stringify!($Kind), ").")]
                    $field: kind_ty::$Kind,
                )* },
            )*
        }

        impl Instr {
            /// The instruction's opcode.
            #[inline]
            pub fn opcode(&self) -> Opcode {
                match self {
                    $( Instr::$Name { .. } => Opcode::$Name, )*
                }
            }

            /// The operands, in table order.
            pub fn operands(&self) -> Vec<Operand> {
                match self {
                    $( Instr::$Name { $( $field, )* } => vec![ $( Operand::$Kind($field.clone()), )* ], )*
                }
            }

            /// Builds an instruction from its opcode and operands in table order.
            #[allow(unused_mut, unused_variables, unused_assignments)]
            pub fn from_operands(
                opcode: Opcode,
                operands: Vec<Operand>,
            ) -> Result<Instr, OperandMismatch> {
                let expected = opcode.operands().len();
                let given = operands.len();
                let mut it = operands.into_iter();
                let mut index = 0usize;
                let instr = match opcode {
                    $( Opcode::$Name => Instr::$Name { $(
                        $field: match it.next() {
                            Some(Operand::$Kind(v)) => { index += 1; v }
                            _ => return Err(OperandMismatch { opcode, index }),
                        },
                    )* }, )*
                };
                if given != expected {
                    return Err(OperandMismatch { opcode, index: expected });
                }
                Ok(instr)
            }
        }
    };
}

crate::for_each_instruction!(define_instructions);

impl Instr {
    /// The opcode's static properties ([`Opcode::flags`]).
    #[inline]
    pub fn flags(&self) -> Flags {
        self.opcode().flags()
    }

    /// The jump target, if this is a jump.
    #[inline]
    pub fn jump_target(&self) -> Option<Label> {
        match self {
            Instr::Jmp { target } | Instr::JmpIf { target, .. } | Instr::JmpIfNot { target, .. } => Some(*target),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcodes_and_mnemonics_are_unique_and_round_trip() {
        let mut bytes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for &op in Opcode::ALL {
            assert!(bytes.insert(op.byte()), "duplicate opcode byte {:#x}", op.byte());
            assert!(names.insert(op.mnemonic()), "duplicate mnemonic {}", op.mnemonic());
            assert_eq!(Opcode::from_byte(op.byte()), Some(op));
            assert_eq!(Opcode::from_mnemonic(op.mnemonic()), Some(op));
        }
        let unused = (0..=255u8).filter(|b| Opcode::from_byte(*b).is_none()).count();
        assert_eq!(unused, 256 - Opcode::ALL.len());
    }

    #[test]
    fn jumps_carry_exactly_one_label_and_jump_target_knows_them_all() {
        for &op in Opcode::ALL {
            let labels = op.operands().iter().filter(|o| o.kind == OperandKind::Label).count();
            assert_eq!(labels == 1, op.flags().contains(Flags::JUMP), "{}", op.mnemonic());
            assert!(labels <= 1);
        }
        let jmp = Instr::from_operands(Opcode::JmpIf, vec![Operand::Reg(Reg(0)), Operand::Label(Label(7))]).unwrap();
        assert_eq!(jmp.jump_target(), Some(Label(7)));
    }

    #[test]
    fn from_operands_rejects_wrong_kinds_and_counts() {
        let err = Instr::from_operands(Opcode::Mov, vec![Operand::Reg(Reg(0)), Operand::Imm(1)]).unwrap_err();
        assert_eq!(err.index, 1);
        let err = Instr::from_operands(Opcode::Mov, vec![Operand::Reg(Reg(0))]).unwrap_err();
        assert_eq!(err.index, 1);
        let err =
            Instr::from_operands(Opcode::Mov, vec![Operand::Reg(Reg(0)), Operand::Reg(Reg(1)), Operand::Reg(Reg(2))])
                .unwrap_err();
        assert_eq!(err.index, 2);
        let ok = Instr::from_operands(Opcode::Mov, vec![Operand::Reg(Reg(3)), Operand::Reg(Reg(4))]).unwrap();
        assert_eq!(ok, Instr::Mov { dst: Reg(3), src: Reg(4) });
        assert_eq!(ok.operands(), vec![Operand::Reg(Reg(3)), Operand::Reg(Reg(4))]);
    }
}
