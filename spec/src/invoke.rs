//! Invoking a chosen function ([exec.invoke]): its arguments, written as text or built in code,
//! and the module that runs the call. An invocation is the module extended with one entry function,
//! `__invoke`, that loads the arguments, calls the function and returns its result
//! (`spec/semantics.md`, [exec.invoke]). Built on the module rather than inside each engine, so
//! that every engine runs it with no code of its own and the engines agree on it as on any
//! other program (the rejected alternative, a root frame made by each engine from host values,
//! needed the same new code in both).

use crate::instr::{ConstIdx, FuncIdx, Instr, Reg};
use crate::{Constant, Function, VerifiedModule};
use std::fmt;
use std::str::FromStr;

/// The name of the entry function of an invocation ([exec.invoke]), with `_` appended as many
/// times as it takes to differ from every function of the module ([verify.function-name-unique]).
pub const INVOKE_FUNCTION: &str = "__invoke";

/// One argument of an invoked function.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (bytes).
    Str(Vec<u8>),
}

/// Why text is not an argument. Input was invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    /// The text given.
    pub text: String,
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an argument: expected an int (`-12`), a float (`1.5`, `2e3`, `inf`, `nan`), \
             `true`, `false`, `nil` or a string in double quotes (`\"text\"`)",
            self.text
        )
    }
}

impl std::error::Error for ArgError {}

impl FromStr for Arg {
    type Err = ArgError;

    /// The text forms of `lockstep run --invoke`: `nil`, `true`, `false`; an int by the `stoi`
    /// grammar ([value.stoi], `[+-]?[0-9]+` in the int range); a float by the `stof` grammar
    /// ([value.stof]: `1.5`, `-2e3`, `nan`, `inf`, `-inf`); a string between double quotes,
    /// taken as it is between them (no escapes). Anything else is an error, so that a typo is
    /// never silently a string.
    ///
    /// ```
    /// use lockstep_spec::invoke::Arg;
    /// assert_eq!("42".parse(), Ok(Arg::Int(42)));
    /// assert_eq!("-1.5".parse(), Ok(Arg::Float(-1.5)));
    /// assert_eq!("true".parse(), Ok(Arg::Bool(true)));
    /// assert_eq!("\"hi\"".parse(), Ok(Arg::Str(b"hi".to_vec())));
    /// assert!("hi".parse::<Arg>().is_err());
    /// assert!("99999999999999999999".parse::<Arg>().is_err()); // outside the int range
    /// ```
    fn from_str(text: &str) -> Result<Arg, ArgError> {
        use crate::num::{parse_float, parse_int};
        let error = || ArgError { text: text.to_string() };
        match text {
            "nil" => return Ok(Arg::Nil),
            "true" => return Ok(Arg::Bool(true)),
            "false" => return Ok(Arg::Bool(false)),
            _ => {}
        }
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            return Ok(Arg::Str(inner.as_bytes().to_vec()));
        }
        let bytes = text.as_bytes();
        // A spelling of digits alone is an int, or no argument at all when it overflows (never a
        // float that quietly lost precision).
        let digits = bytes.strip_prefix(b"-").or(bytes.strip_prefix(b"+")).unwrap_or(bytes);
        if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
            return parse_int(bytes).map(Arg::Int).ok_or_else(error);
        }
        parse_float(bytes).map(Arg::Float).ok_or_else(error)
    }
}

/// Why a function cannot be invoked. Input was invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// The module has no function of this name; `suggestion` is the nearest one it has.
    UnknownFunction {
        /// The name asked for.
        name: String,
        /// The declared name nearest to it, if one is near.
        suggestion: Option<String>,
    },
    /// The function takes `arity` arguments, and `given` were given.
    Arity {
        /// The function.
        name: String,
        /// Its parameter count.
        arity: u32,
        /// The arguments given.
        given: usize,
    },
    /// The module with `__invoke` breaks a limit (it already has the most functions or
    /// constants a module may have).
    Limit {
        /// The verifier's message.
        message: String,
    },
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::UnknownFunction { name, suggestion } => {
                write!(f, "no function named `{name}` in the program")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => Ok(()),
                }
            }
            InvokeError::Arity { name, arity, given } => {
                let s = if *arity == 1 { "" } else { "s" };
                write!(f, "function `{name}` takes {arity} argument{s}, but {given} were given")
            }
            InvokeError::Limit { message } => write!(f, "cannot invoke: {message}"),
        }
    }
}

impl std::error::Error for InvokeError {}

/// The module of an invocation of function `name` of `module` with `args` ([exec.invoke]): the
/// module an engine runs to invoke it (`lockstep::Vm::invoke`). Its functions keep their indices, so the source map
/// of `module` still applies; `__invoke` is the last.
pub fn invocation(module: &VerifiedModule, name: &str, args: &[Arg]) -> Result<VerifiedModule, InvokeError> {
    let m = module.module();
    let Some(func) = m.function_by_name(name) else {
        let names = m.functions.iter().map(|f| f.name.as_str());
        let suggestion = crate::suggest::closest(name, names).map(str::to_string);
        return Err(InvokeError::UnknownFunction { name: name.to_string(), suggestion });
    };
    let arity = m.functions[func.0 as usize].arity;
    if arity as usize != args.len() {
        return Err(InvokeError::Arity { name: name.to_string(), arity, given: args.len() });
    }
    let mut module = m.clone();
    let mut code = Vec::with_capacity(args.len() + 2);
    for (i, arg) in args.iter().enumerate() {
        // The arity check above bounds `i` by the callee's arity, which the verifier bounds by
        // MAX_REGS (< 2^16).
        let dst = Reg(i as u16);
        let mut constant = |c: Constant| {
            module.constants.push(c);
            ConstIdx(module.constants.len() as u32 - 1)
        };
        code.push(match arg {
            Arg::Nil => Instr::LdNil { dst },
            Arg::Bool(true) => Instr::LdTrue { dst },
            Arg::Bool(false) => Instr::LdFalse { dst },
            Arg::Int(i) => Instr::LdK { dst, k: constant(Constant::Int(*i)) },
            Arg::Float(x) => Instr::LdK { dst, k: constant(Constant::Float(*x)) },
            Arg::Str(s) => Instr::LdK { dst, k: constant(Constant::Str(s.clone().into_boxed_slice())) },
        });
    }
    let regs: Box<[Reg]> = (0..args.len()).map(|i| Reg(i as u16)).collect();
    code.push(Instr::Call { dst: Reg(0), func, args: regs });
    code.push(Instr::Ret { src: Reg(0) });
    module.entry = FuncIdx(module.functions.len() as u32);
    let mut name = INVOKE_FUNCTION.to_string();
    while module.function_by_name(&name).is_some() {
        name.push('_');
    }
    module.functions.push(Function { name, arity: 0, regs: arity.max(1), code });
    crate::verify::verify(module).map_err(|e| InvokeError::Limit { message: e.to_string() })
}
