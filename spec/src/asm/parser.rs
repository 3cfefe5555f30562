//! Pass 1: reads the lines into declarations.
//!
//! Everything that is local to a line or a function header is settled here: literals, register
//! names (the parameters and `local` lines precede every use), register counts, label
//! definitions, and the uniqueness of every declared name. Names of functions, classes,
//! constants, fields and labels are kept with their positions for [`super::resolve`], since they
//! may be used before they are declared.

use super::lexer::{check_line, Lexer, Tok, TokKind};
use super::{Fail, Pos};
use crate::instr::{Opcode, Operand, OperandKind, Reg};
use crate::limits::MAX_CODE_LEN;
use std::collections::HashMap;

/// A name as written, with where it was written.
#[derive(Clone, Debug)]
pub(super) struct Name<'a> {
    pub text: &'a str,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub(super) enum Lit {
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
}

#[derive(Clone, Debug)]
pub(super) enum ConstRef<'a> {
    Lit(Lit),
    Named(Name<'a>),
}

#[derive(Clone, Debug)]
pub(super) enum FieldSel<'a> {
    Name(Name<'a>),
    Slot(u32, Pos),
}

/// An operand after pass 1: either final, or a reference pass 2 resolves.
#[derive(Clone, Debug)]
pub(super) enum Pending<'a> {
    Ready(Operand),
    Const(ConstRef<'a>, Pos),
    Str(ConstRef<'a>, Pos),
    Func(Name<'a>),
    Class(Name<'a>),
    Field(Name<'a>, FieldSel<'a>),
    Label(Name<'a>),
}

#[derive(Clone, Debug)]
pub(super) struct PendingInstr<'a> {
    pub opcode: Opcode,
    pub pos: Pos,
    /// Characters from the mnemonic to the end of the last operand (for the source map).
    pub width: u32,
    pub operands: Box<[Pending<'a>]>,
}

#[derive(Clone, Debug)]
pub(super) struct ConstDecl<'a> {
    pub name: Name<'a>,
    pub value: Lit,
}

#[derive(Clone, Debug)]
pub(super) struct ClassDecl<'a> {
    pub name: Name<'a>,
    pub superclass: Option<Name<'a>>,
    pub fields: Vec<Name<'a>>,
    /// Method name and function name.
    pub methods: Vec<(Name<'a>, Name<'a>)>,
}

#[derive(Clone, Debug)]
pub(super) struct FuncDecl<'a> {
    pub name: Name<'a>,
    pub arity: u32,
    pub regs: u32,
    pub code: Vec<PendingInstr<'a>>,
    pub labels: HashMap<&'a str, u32>,
}

/// The whole file after pass 1. The maps give each declared name its index.
#[derive(Debug, Default)]
pub(super) struct Ast<'a> {
    pub consts: Vec<ConstDecl<'a>>,
    pub classes: Vec<ClassDecl<'a>>,
    pub funcs: Vec<FuncDecl<'a>>,
    pub entry: Option<Name<'a>>,
    pub const_index: HashMap<&'a str, u32>,
    pub class_index: HashMap<&'a str, u32>,
    pub func_index: HashMap<&'a str, u32>,
}

/// Words with a meaning of their own in constant position. [text.const-operand]
const FLOAT_WORDS: [&str; 3] = ["nan", "inf", "-inf"];

/// Parses the text of a file, line by line.
pub(super) fn parse(source: &str) -> Result<Ast<'_>, Fail> {
    let mut parser = Parser { lines: source.split('\n'), read: 0, ast: Ast::default() };
    parser.file()?;
    Ok(parser.ast)
}

fn found(tok: Option<&Tok>) -> String {
    match tok {
        None => "end of line".to_string(),
        Some(t) => {
            let shown: String = t.text.chars().take(40).collect();
            let ellipsis = if t.text.chars().count() > 40 { "..." } else { "" };
            format!("`{shown}{ellipsis}`")
        }
    }
}

/// `rN`: the raw register number, if `name` has that form (even if N is out of range).
/// [text.raw-register]
fn raw_register(name: &str) -> Option<Option<u16>> {
    let digits = name.strip_prefix('r')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u16>().ok())
}

fn to_index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The tokens of one line and a position in them: the current token and the one after it (the
/// grammar looks no further ahead), lexed as the parser moves on.
struct Cursor<'a> {
    lexer: Lexer<'a>,
    current: Option<Tok<'a>>,
    after: Option<Tok<'a>>,
    line: u32,
    end_col: u32,
    /// The column just after the last token moved past.
    passed_col: u32,
}

impl<'a> Cursor<'a> {
    /// The cursor at the start of line number `line`, after checking all of its tokens.
    fn new(text: &'a str, line: u32) -> Result<Cursor<'a>, Fail> {
        check_line(text, line)?;
        let mut lexer = Lexer::new(text, line);
        let current = Self::lex(&mut lexer);
        let after = Self::lex(&mut lexer);
        let end_col = u32::try_from(text.chars().count() + 1).unwrap_or(u32::MAX);
        Ok(Cursor { lexer, current, after, line, end_col, passed_col: 1 })
    }

    /// The next token. `check_line` has lexed the whole line without error, so lexing it again
    /// cannot fail.
    fn lex(lexer: &mut Lexer<'a>) -> Option<Tok<'a>> {
        lexer.next_token().unwrap_or(None)
    }

    /// Moves to the next token.
    fn bump(&mut self) {
        if let Some(tok) = &self.current {
            let width = u32::try_from(tok.text.chars().count()).unwrap_or(u32::MAX);
            self.passed_col = tok.col.saturating_add(width);
        }
        self.current = self.after.take();
        self.after = Self::lex(&mut self.lexer);
    }

    fn peek(&self) -> Option<&Tok<'a>> {
        self.current.as_ref()
    }

    /// The token after the current one.
    fn peek_second(&self) -> Option<&Tok<'a>> {
        self.after.as_ref()
    }

    /// The identifier at the cursor, without moving (`""` if there is none).
    fn word(&self) -> &'a str {
        match self.peek() {
            Some(Tok { kind: TokKind::Ident(w), .. }) => w,
            _ => "",
        }
    }

    fn pos(&self) -> Pos {
        Pos { line: self.line, col: self.peek().map_or(self.end_col, |t| t.col) }
    }

    fn expected(&self, what: &str) -> Fail {
        Fail::new(self.pos(), format!("expected {what}, found {}", found(self.peek())))
    }

    fn is_punct(&self, c: char) -> bool {
        matches!(self.peek(), Some(Tok { kind: TokKind::Punct(p), .. }) if *p == c)
    }

    fn is_word(&self, word: &str) -> bool {
        self.word() == word
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.is_punct(c);
        if yes {
            self.bump();
        }
        yes
    }

    fn punct(&mut self, c: char) -> Result<(), Fail> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{c}`")))
        }
    }

    /// An identifier (not `-inf`), described as `what` if missing.
    fn ident(&mut self, what: &str) -> Result<Name<'a>, Fail> {
        match self.peek() {
            Some(Tok { kind: TokKind::Ident(w), col, .. }) if *w != "-inf" => {
                let name = Name { text: w, pos: Pos { line: self.line, col: *col } };
                self.bump();
                Ok(name)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn end(&self) -> Result<(), Fail> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.expected("end of line")),
        }
    }

    /// An integer literal in `0..=u32::MAX`.
    fn count(&mut self, what: &str) -> Result<u32, Fail> {
        let pos = self.pos();
        match self.peek() {
            Some(Tok { kind: TokKind::Int(v), .. }) => {
                let v = *v;
                self.bump();
                u32::try_from(v).map_err(|_| Fail::new(pos, format!("{what} must be between 0 and {}", u32::MAX)))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A literal (int, float, string, `nan`, `inf`, `-inf`), or `None` if the next token is not one.
    fn literal(&mut self) -> Option<Lit> {
        let lit = match &self.peek()?.kind {
            TokKind::Int(v) => Lit::Int(*v),
            TokKind::Float(v) => Lit::Float(*v),
            TokKind::Str(s) => Lit::Str(s.clone()),
            TokKind::Ident(w) => match *w {
                // [text.float-words] `nan` is the canonical quiet NaN.
                "nan" => Lit::Float(f64::from_bits(0x7ff8_0000_0000_0000)),
                "inf" => Lit::Float(f64::INFINITY),
                "-inf" => Lit::Float(f64::NEG_INFINITY),
                _ => return None,
            },
            TokKind::Punct(_) => return None,
        };
        self.bump();
        Some(lit)
    }
}

/// The registers of the function being parsed. [text.registers]
struct Regs<'a> {
    names: HashMap<&'a str, u16>,
    /// Parameters and locals so far.
    named: u32,
    /// One more than the highest raw register used.
    raw_max: u32,
}

impl<'a> Regs<'a> {
    fn declare(&mut self, name: &Name<'a>) -> Result<(), Fail> {
        if raw_register(name.text).is_some() {
            return Err(Fail::new(
                name.pos,
                format!("`{}` cannot name a register: names of the form r<digits> are raw registers", name.text),
            ));
        }
        let index = u16::try_from(self.named)
            .map_err(|_| Fail::new(name.pos, format!("too many registers (at most {})", u32::from(u16::MAX) + 1)))?;
        if self.names.insert(name.text, index).is_some() {
            return Err(Fail::new(name.pos, format!("duplicate register name `{}`", name.text)));
        }
        self.named += 1;
        Ok(())
    }

    fn lookup(&mut self, name: &Name<'a>) -> Result<Reg, Fail> {
        if let Some(raw) = raw_register(name.text) {
            let n = raw.ok_or_else(|| {
                Fail::new(name.pos, format!("register `{}` is out of range (at most r{})", name.text, u16::MAX))
            })?;
            self.raw_max = self.raw_max.max(u32::from(n) + 1);
            return Ok(Reg(n));
        }
        match self.names.get(name.text) {
            Some(&r) => Ok(Reg(r)),
            None => Err(Fail::unknown(
                name.pos,
                format!("unknown register `{}`", name.text),
                name.text,
                "register",
                self.names.keys().copied(),
            )),
        }
    }
}

struct Parser<'a> {
    lines: std::str::Split<'a, char>,
    /// The number of lines read so far.
    read: usize,
    ast: Ast<'a>,
}

impl<'a> Parser<'a> {
    /// The next line that has tokens, or `None` at the end of the file.
    fn next_line(&mut self) -> Result<Option<Cursor<'a>>, Fail> {
        for text in self.lines.by_ref() {
            // [text.lines]
            let text = text.strip_suffix('\r').unwrap_or(text);
            self.read += 1;
            let cur = Cursor::new(text, to_index(self.read))?;
            if cur.peek().is_some() {
                return Ok(Some(cur));
            }
        }
        Ok(None)
    }

    /// [text.items]
    fn file(&mut self) -> Result<(), Fail> {
        while let Some(mut cur) = self.next_line()? {
            let keyword = cur.word();
            if !["class", "const", "func", "entry"].contains(&keyword) {
                return Err(cur.expected("`class`, `const`, `func` or `entry`"));
            }
            cur.bump();
            match keyword {
                "class" => self.class(cur)?,
                "const" => self.constant(cur)?,
                "func" => self.function(cur)?,
                _ => self.entry(cur)?,
            }
        }
        Ok(())
    }

    /// Records a declared name in `map`, rejecting duplicates. [text.unique-names]
    fn declare(map: &mut HashMap<&'a str, u32>, name: &Name<'a>, index: usize, what: &str) -> Result<(), Fail> {
        if map.contains_key(name.text) {
            return Err(Fail::new(name.pos, format!("duplicate {what} `{}`", name.text)));
        }
        map.insert(name.text, to_index(index));
        Ok(())
    }

    /// `entry NAME` [text.entry]
    fn entry(&mut self, mut cur: Cursor<'a>) -> Result<(), Fail> {
        let name = cur.ident("a function name")?;
        cur.end()?;
        if let Some(first) = &self.ast.entry {
            return Err(Fail::new(
                name.pos,
                format!("duplicate `entry` (the entry is already given at line {})", first.pos.line),
            ));
        }
        self.ast.entry = Some(name);
        Ok(())
    }

    /// `const NAME = LITERAL` [text.const]
    fn constant(&mut self, mut cur: Cursor<'a>) -> Result<(), Fail> {
        let name = cur.ident("a constant name")?;
        if FLOAT_WORDS.contains(&name.text) {
            return Err(Fail::new(name.pos, format!("`{}` is reserved and cannot name a constant", name.text)));
        }
        cur.punct('=')?;
        let value = cur.literal().ok_or_else(|| cur.expected("a literal (integer, float or string)"))?;
        cur.end()?;
        Self::declare(&mut self.ast.const_index, &name, self.ast.consts.len(), "constant")?;
        self.ast.consts.push(ConstDecl { name, value });
        Ok(())
    }

    /// `{` then either `}` on the same line or the end of the line. Returns whether it closed.
    fn open_brace(cur: &mut Cursor) -> Result<(Pos, bool), Fail> {
        let pos = cur.pos();
        cur.punct('{')?;
        let closed = cur.eat_punct('}');
        cur.end()?;
        Ok((pos, closed))
    }

    fn unclosed(what: &str, open: Pos) -> Fail {
        Fail::new(open, format!("missing `}}`: {what} is not closed before the end of the file"))
    }

    /// Inside a body, a line starting with a top-level keyword means a `}` was forgotten.
    fn check_not_toplevel(cur: &Cursor, what: &str, open: Pos) -> Result<(), Fail> {
        if ["class", "const", "func", "entry"].iter().any(|k| cur.is_word(k))
            && !matches!(cur.peek_second(), Some(Tok { kind: TokKind::Punct(':'), .. }))
        {
            return Err(Fail::new(
                cur.pos(),
                format!("expected `}}` to close {what} (opened at line {}), found {}", open.line, found(cur.peek())),
            ));
        }
        Ok(())
    }

    /// `class NAME [: SUPER] {` then `field NAME` and `method NAME FUNC` lines, then `}`.
    /// [text.class]
    fn class(&mut self, mut cur: Cursor<'a>) -> Result<(), Fail> {
        let name = cur.ident("a class name")?;
        let superclass = if cur.eat_punct(':') { Some(cur.ident("a superclass name")?) } else { None };
        let (open, mut closed) = Self::open_brace(&mut cur)?;
        Self::declare(&mut self.ast.class_index, &name, self.ast.classes.len(), "class")?;
        let what = format!("class `{}`", name.text);
        let mut decl = ClassDecl { name, superclass, fields: Vec::new(), methods: Vec::new() };
        let mut field_names = HashMap::new();
        let mut method_names = HashMap::new();
        while !closed {
            let mut cur = self.next_line()?.ok_or_else(|| Self::unclosed(&what, open))?;
            if cur.eat_punct('}') {
                cur.end()?;
                closed = true;
                continue;
            }
            Self::check_not_toplevel(&cur, &what, open)?;
            let word = cur.word();
            if word != "field" && word != "method" {
                return Err(cur.expected("`field`, `method` or `}`"));
            }
            cur.bump();
            match word {
                "field" => {
                    let field = cur.ident("a field name")?;
                    cur.end()?;
                    Self::declare(&mut field_names, &field, decl.fields.len(), "field")?;
                    decl.fields.push(field);
                }
                _ => {
                    let method = cur.ident("a method name")?;
                    let func = cur.ident("the function implementing the method")?;
                    cur.end()?;
                    Self::declare(&mut method_names, &method, decl.methods.len(), "method")?;
                    decl.methods.push((method, func));
                }
            }
        }
        self.ast.classes.push(decl);
        Ok(())
    }

    /// `func NAME(PARAMS) [regs N] {`, `local` lines, labelled instructions, `}`. [text.func]
    fn function(&mut self, mut cur: Cursor<'a>) -> Result<(), Fail> {
        let name = cur.ident("a function name")?;
        Self::declare(&mut self.ast.func_index, &name, self.ast.funcs.len(), "function")?;
        let mut regs = Regs { names: HashMap::new(), named: 0, raw_max: 0 };
        cur.punct('(')?;
        if !cur.eat_punct(')') {
            loop {
                let param = cur.ident("a parameter name")?;
                match raw_register(param.text) {
                    // [text.raw-params] `rK` is the K-th parameter, so it can be written only there.
                    Some(Some(k)) if u32::from(k) == regs.named => regs.named += 1,
                    Some(_) => {
                        return Err(Fail::new(
                            param.pos,
                            format!(
                                "parameter {} cannot be written `{}`: a raw register name must be its \
                                 position (`r{}`)",
                                regs.named, param.text, regs.named
                            ),
                        ))
                    }
                    None => regs.declare(&param)?,
                }
                if cur.eat_punct(')') {
                    break;
                }
                if !cur.eat_punct(',') {
                    return Err(cur.expected("`,` or `)`"));
                }
            }
        }
        let arity = regs.named;
        let explicit_regs = if cur.is_word("regs") {
            cur.bump();
            let pos = cur.pos();
            Some((cur.count("a register count")?, pos))
        } else {
            None
        };
        let (open, mut closed) = Self::open_brace(&mut cur)?;
        let what = format!("function `{}`", name.text);
        let mut code = Vec::new();
        let mut labels: HashMap<&'a str, u32> = HashMap::new();
        while !closed {
            let mut cur = self.next_line()?.ok_or_else(|| Self::unclosed(&what, open))?;
            if cur.eat_punct('}') {
                cur.end()?;
                closed = true;
                continue;
            }
            Self::check_not_toplevel(&cur, &what, open)?;
            let starts_label = matches!(cur.peek_second(), Some(Tok { kind: TokKind::Punct(':'), .. }));
            if cur.is_word("local") && !starts_label {
                let pos = cur.pos();
                if !code.is_empty() || !labels.is_empty() {
                    return Err(Fail::new(pos, "`local` lines must come before the first instruction or label"));
                }
                cur.bump();
                loop {
                    regs.declare(&cur.ident("a register name")?)?;
                    if !cur.eat_punct(',') {
                        break;
                    }
                }
                cur.end()?;
                continue;
            }
            // [text.label]
            while matches!(cur.peek_second(), Some(Tok { kind: TokKind::Punct(':'), .. })) {
                let label = cur.ident("a label name")?;
                cur.bump();
                if labels.contains_key(label.text) {
                    return Err(Fail::new(label.pos, format!("duplicate label `{}`", label.text)));
                }
                labels.insert(label.text, to_index(code.len()));
            }
            if cur.peek().is_none() {
                continue;
            }
            // [text.func] The verifier's limit, checked here too so that a file of a few
            // megabytes cannot make the assembler hold tens of bytes of pending code per byte.
            if code.len() >= MAX_CODE_LEN as usize {
                return Err(Fail::new(
                    cur.pos(),
                    format!("{what} has more than {MAX_CODE_LEN} instructions, the most a function may have"),
                ));
            }
            code.push(Self::instruction(&mut cur, &mut regs)?);
        }
        let needed = regs.named.max(regs.raw_max);
        let regs = match explicit_regs {
            // [text.regs]
            Some((n, pos)) if n < needed => {
                return Err(Fail::new(pos, format!("`regs {n}` is too small: the function uses {needed} registers")))
            }
            Some((n, _)) => n,
            None => needed,
        };
        self.ast.funcs.push(FuncDecl { name, arity, regs, code, labels });
        Ok(())
    }

    /// `MNEMONIC OPERAND, ...` with operands parsed by the kinds of the table. [text.instruction]
    fn instruction(cur: &mut Cursor<'a>, regs: &mut Regs<'a>) -> Result<PendingInstr<'a>, Fail> {
        let pos = cur.pos();
        let mnemonic = cur.ident("an instruction mnemonic or a label")?;
        let opcode = Opcode::from_mnemonic(mnemonic.text).ok_or_else(|| {
            let all = Opcode::ALL.iter().map(|op| op.mnemonic());
            Fail::unknown(mnemonic.pos, format!("unknown mnemonic `{}`", mnemonic.text), mnemonic.text, "mnemonic", all)
        })?;
        let specs = opcode.operands();
        let mut operands = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            if index > 0 && !cur.eat_punct(',') {
                if cur.peek().is_none() {
                    return Err(Self::arity_error(cur, opcode, index));
                }
                return Err(cur.expected("`,`"));
            }
            if cur.peek().is_none() {
                return Err(Self::arity_error(cur, opcode, index));
            }
            operands.push(Self::operand(cur, regs, spec.kind)?);
        }
        if cur.is_punct(',') {
            return Err(Fail::new(
                cur.pos(),
                format!("too many operands: `{}` takes {}", opcode.mnemonic(), Self::signature(opcode)),
            ));
        }
        cur.end()?;
        let width = cur.passed_col.saturating_sub(pos.col);
        Ok(PendingInstr { opcode, pos, width, operands: operands.into_boxed_slice() })
    }

    fn signature(opcode: Opcode) -> String {
        let specs = opcode.operands();
        if specs.is_empty() {
            return "no operands".to_string();
        }
        let list: Vec<String> = specs.iter().map(|s| format!("{}: {}", s.name, s.kind.name())).collect();
        format!("{} operand{} ({})", specs.len(), if specs.len() == 1 { "" } else { "s" }, list.join(", "))
    }

    fn arity_error(cur: &Cursor, opcode: Opcode, given: usize) -> Fail {
        Fail::new(cur.pos(), format!("`{}` takes {}, found {given}", opcode.mnemonic(), Self::signature(opcode)))
    }

    /// One operand of the given kind. [text.operands]
    fn operand(cur: &mut Cursor<'a>, regs: &mut Regs<'a>, kind: OperandKind) -> Result<Pending<'a>, Fail> {
        let pos = cur.pos();
        Ok(match kind {
            OperandKind::Reg => Pending::Ready(Operand::Reg(regs.lookup(&cur.ident("a register")?)?)),
            OperandKind::Imm => match cur.peek().map(|t| &t.kind) {
                Some(TokKind::Int(v)) => {
                    let v = *v;
                    cur.bump();
                    Pending::Ready(Operand::Imm(v))
                }
                _ => return Err(cur.expected("an integer literal")),
            },
            OperandKind::Const => match cur.literal() {
                Some(lit) => Pending::Const(ConstRef::Lit(lit), pos),
                None => Pending::Const(
                    ConstRef::Named(cur.ident("a constant (a number, a string or a constant name)")?),
                    pos,
                ),
            },
            OperandKind::Str => match cur.peek().map(|t| &t.kind) {
                Some(TokKind::Str(s)) => {
                    let s = s.clone();
                    cur.bump();
                    Pending::Str(ConstRef::Lit(Lit::Str(s)), pos)
                }
                Some(TokKind::Ident(w)) if !FLOAT_WORDS.contains(w) => {
                    Pending::Str(ConstRef::Named(cur.ident("a string")?), pos)
                }
                _ => return Err(cur.expected("a string (a string literal or a constant name)")),
            },
            OperandKind::Func => Pending::Func(cur.ident("a function name")?),
            OperandKind::Class => Pending::Class(cur.ident("a class name")?),
            OperandKind::Field => {
                let class = cur.ident("a field (`Class.field`)")?;
                cur.punct('.')?;
                let field = match cur.peek().map(|t| &t.kind) {
                    Some(TokKind::Int(_)) => {
                        let slot_pos = cur.pos();
                        FieldSel::Slot(cur.count("a field slot")?, slot_pos)
                    }
                    _ => FieldSel::Name(cur.ident("a field name or slot number")?),
                };
                Pending::Field(class, field)
            }
            OperandKind::Label => Pending::Label(cur.ident("a label")?),
            OperandKind::Args => {
                cur.punct('(')?;
                let mut args = Vec::new();
                if !cur.eat_punct(')') {
                    loop {
                        args.push(regs.lookup(&cur.ident("a register")?)?);
                        if cur.eat_punct(')') {
                            break;
                        }
                        if !cur.eat_punct(',') {
                            return Err(cur.expected("`,` or `)`"));
                        }
                    }
                }
                Pending::Ready(Operand::Args(args.into_boxed_slice()))
            }
        })
    }
}
