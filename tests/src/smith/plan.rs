//! The shape of a generated module, drawn before any code: the swarm configuration, the
//! classes with their typed fields and methods, the method names with their signatures, and
//! every function's signature and role. Bodies (`body.rs`) are written against this plan, so a
//! call site knows its callee's parameter types before the callee's code exists.

use super::rng::Rng;
use super::{Family, Options, Threads};

/// The static type of a register, a parameter, a field or a result. Values of a register never
/// leave its type (see the module documentation of `smith`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Arr,
    /// An instance of the class or of one of its subclasses.
    Obj(u32),
    /// A function with this signature (an index into `Plan::sigs`), of a higher index than the
    /// function holding it.
    Fn(u32),
    /// Anything, `nil` included.
    Any,
}

pub(crate) const BASIC: &[Ty] = &[Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::Arr, Ty::Any];

#[derive(Clone, Debug)]
pub(crate) struct Sig {
    pub params: Vec<Ty>,
    pub ret: Ty,
}

#[derive(Clone, Debug)]
pub(crate) struct ClassPlan {
    pub superclass: Option<u32>,
    pub own: Vec<Ty>,
    /// Types of all fields, inherited first: the slot order.
    pub all: Vec<Ty>,
    /// (method name index, function index) defined here.
    pub methods: Vec<(u32, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Main,
    Helper,
    /// `f(n: Int) -> Int`, recursing to depth `n`.
    Recursive,
    /// Only ever spawned: it may spawn further threads itself.
    ThreadRoot,
    Method {
        class: u32,
        name: u32,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct FuncPlan {
    pub name: String,
    pub params: Vec<Ty>,
    pub ret: Ty,
    pub role: Role,
    /// For helpers: the index in `Plan::sigs` of their signature (callable through `callv`).
    pub sig: Option<u32>,
}

pub(crate) struct Plan {
    pub families: Vec<Family>,
    pub threads: bool,
    pub fuel: u64,
    /// Per mille: chance that a random instruction ignores register types.
    pub chaos: u32,
    /// Per mille: chance that a division, index, length or conversion is *not* guarded.
    pub unguarded: u32,
    pub classes: Vec<ClassPlan>,
    /// Signature of each method name `m{j}` (the receiver not included).
    pub method_sigs: Vec<Sig>,
    pub sigs: Vec<Sig>,
    pub funcs: Vec<FuncPlan>,
    pub deep_recursion: bool,
}

impl Plan {
    pub fn draw(r: &mut Rng<'_, '_>, options: Options) -> Plan {
        let threads = match options.threads {
            Threads::Forbid => false,
            Threads::Allow => r.chance(1, 3),
            Threads::Require => true,
        };
        let mut families: Vec<Family> = Family::ALL
            .iter()
            .copied()
            .filter(|f| match f {
                Family::Threads => threads,
                Family::Moves | Family::Control => r.chance(9, 10),
                _ => r.chance(7, 10),
            })
            .collect();
        if threads && !families.contains(&Family::Atomic) && r.chance(2, 3) {
            families.push(Family::Atomic);
        }
        let chaos = [0, 0, 0, 2, 5, 15][r.below(6)];
        let unguarded = [0, 10, 40, 100][r.below(4)];
        let deep_recursion = families.contains(&Family::Calls) && r.chance(1, 6);
        let fuel = if deep_recursion {
            r.range(9_000, 25_000)
        } else {
            match r.below(10) {
                0 | 1 => r.range(5, 200),
                2 => r.range(2_000, 8_000),
                _ => r.range(200, 2_000),
            }
        };
        let objects = families.contains(&Family::Objects);
        let mut plan = Plan {
            families,
            threads,
            fuel,
            chaos,
            unguarded,
            classes: Vec::new(),
            method_sigs: Vec::new(),
            sigs: Vec::new(),
            funcs: Vec::new(),
            deep_recursion,
        };
        if objects {
            plan.draw_classes(r);
        }
        plan.draw_functions(r);
        plan
    }

    fn value_ty(&self, r: &mut Rng<'_, '_>) -> Ty {
        if !self.classes.is_empty() && r.chance(1, 4) {
            Ty::Obj(r.below(self.classes.len()) as u32)
        } else {
            BASIC[r.below(BASIC.len())]
        }
    }

    fn sig(&self, r: &mut Rng<'_, '_>, max_params: usize) -> Sig {
        let n = r.below(max_params + 1);
        let params = (0..n).map(|_| self.value_ty(r)).collect();
        Sig { params, ret: self.value_ty(r) }
    }

    fn draw_classes(&mut self, r: &mut Rng<'_, '_>) {
        let n = r.range(1, 5) as usize;
        for i in 0..n {
            let superclass = if i > 0 && r.chance(2, 3) { Some(r.below(i) as u32) } else { None };
            let own: Vec<Ty> = (0..r.below(4))
                .map(|_| [Ty::Int, Ty::Int, Ty::Float, Ty::Bool, Ty::Str, Ty::Arr, Ty::Any][r.below(7)])
                .collect();
            let mut all = superclass.map(|s| self.classes[s as usize].all.clone()).unwrap_or_default();
            all.extend(own.iter().copied());
            self.classes.push(ClassPlan { superclass, own, all, methods: Vec::new() });
        }
        let names = r.range(1, 4) as usize;
        for _ in 0..names {
            let sig = self.sig(r, 2);
            self.method_sigs.push(sig);
        }
    }

    fn draw_functions(&mut self, r: &mut Rng<'_, '_>) {
        let main_params = if r.chance(1, 5) { vec![Ty::Arr] } else { vec![] };
        self.funcs.push(FuncPlan {
            name: "main".into(),
            params: main_params,
            ret: self.value_ty(r),
            role: Role::Main,
            sig: None,
        });
        for _ in 0..r.range(1, 3) {
            let sig = self.sig(r, 3);
            self.sigs.push(sig);
        }
        let helpers = r.range(1, 6) as usize;
        let recursive_at = if self.families.contains(&Family::Calls) && (self.deep_recursion || r.chance(1, 3)) {
            Some(r.below(helpers))
        } else {
            None
        };
        let roots = if self.threads { r.range(0, 2) as usize } else { 0 };
        for _ in 0..roots {
            let mut sig = self.sig(r, 2);
            self.share_params(r, &mut sig);
            let i = self.funcs.len();
            self.funcs.push(FuncPlan {
                name: format!("root{i}"),
                params: sig.params,
                ret: sig.ret,
                role: Role::ThreadRoot,
                sig: None,
            });
        }
        for h in 0..helpers {
            let i = self.funcs.len();
            if recursive_at == Some(h) {
                self.funcs.push(FuncPlan {
                    name: format!("rec{i}"),
                    params: vec![Ty::Int],
                    ret: Ty::Int,
                    role: Role::Recursive,
                    sig: None,
                });
                continue;
            }
            let s = r.below(self.sigs.len());
            let mut params = self.sigs[s].params.clone();
            let ret = self.sigs[s].ret;
            let mut sig = Some(s as u32);
            if self.threads && r.chance(1, 2) {
                // A worker: shares objects and arrays with its spawner.
                let mut own = Sig { params, ret };
                self.share_params(r, &mut own);
                params = own.params;
                sig = None;
            }
            self.funcs.push(FuncPlan { name: format!("f{i}"), params, ret, role: Role::Helper, sig });
        }
        // Methods come last so that helpers can send to them (calls only go to higher indices);
        // their order is shuffled so that methods can send to some other methods too.
        let mut defs = Vec::new();
        for c in 0..self.classes.len() {
            for m in 0..self.method_sigs.len() {
                if r.chance(1, 2) {
                    defs.push((c as u32, m as u32));
                }
            }
        }
        for i in (1..defs.len()).rev() {
            let j = r.below(i + 1);
            defs.swap(i, j);
        }
        for (class, name) in defs {
            let i = self.funcs.len() as u32;
            let sig = &self.method_sigs[name as usize];
            let mut params = vec![Ty::Obj(class)];
            params.extend(sig.params.iter().copied());
            self.funcs.push(FuncPlan {
                name: format!("C{class}_m{name}"),
                params,
                ret: sig.ret,
                role: Role::Method { class, name },
                sig: None,
            });
            self.classes[class as usize].methods.push((name, i));
        }
    }

    /// Gives a thread function at least one parameter through which it shares mutable state.
    fn share_params(&self, r: &mut Rng<'_, '_>, sig: &mut Sig) {
        let shared = if !self.classes.is_empty() && r.chance(1, 2) {
            Ty::Obj(r.below(self.classes.len()) as u32)
        } else {
            Ty::Arr
        };
        sig.params.insert(0, shared);
    }

    pub fn has(&self, f: Family) -> bool {
        self.families.contains(&f)
    }

    /// Whether class `a` is `b` or a subclass of it.
    pub fn is_subclass(&self, a: u32, b: u32) -> bool {
        let mut cur = Some(a);
        while let Some(c) = cur {
            if c == b {
                return true;
            }
            cur = self.classes[c as usize].superclass;
        }
        false
    }

    /// Whether a value of type `have` may be used where `want` is expected.
    pub fn fits(&self, have: Ty, want: Ty) -> bool {
        match (have, want) {
            (_, Ty::Any) => true,
            (Ty::Obj(a), Ty::Obj(b)) => self.is_subclass(a, b),
            (a, b) => a == b,
        }
    }

    /// `class` and its ancestors, nearest first.
    pub fn chain(&self, class: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = Some(class);
        while let Some(c) = cur {
            out.push(c);
            cur = self.classes[c as usize].superclass;
        }
        out
    }

    /// Subclasses of `class`, itself included.
    pub fn subclasses(&self, class: u32) -> Vec<u32> {
        (0..self.classes.len() as u32).filter(|&c| self.is_subclass(c, class)).collect()
    }

    /// The functions implementing method name `m`.
    pub fn implementations(&self, m: u32) -> impl Iterator<Item = u32> + '_ {
        self.funcs.iter().enumerate().filter_map(move |(i, f)| match f.role {
            Role::Method { name, .. } if name == m => Some(i as u32),
            _ => None,
        })
    }

    /// Method names that every instance of `class` understands.
    pub fn methods_of(&self, class: u32) -> Vec<u32> {
        let mut out: Vec<u32> =
            self.chain(class).iter().flat_map(|&c| self.classes[c as usize].methods.iter().map(|&(m, _)| m)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
