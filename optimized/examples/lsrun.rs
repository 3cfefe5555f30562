//! A minimal runner for benchmarking and debugging without the CLI:
//! `cargo run --release -p lockstep-optimized --example lsrun -- [--engine reference] [--stats]
//! FILE.lsa [ARGS...]`.
//! The `lockstep` CLI (`lockstep run --engine optimized`) is the supported way to run programs.

use lockstep_optimized::{run_with_stats, Config};
use lockstep_spec::outcome::End;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let reference = argv.len() >= 2 && argv[0] == "--engine" && argv[1] == "reference";
    if argv.first().map(String::as_str) == Some("--engine") && argv.len() >= 2 {
        argv.drain(..2);
    }
    let stats = argv.first().map(String::as_str) == Some("--stats");
    if stats {
        argv.remove(0);
    }
    let Some(path) = argv.first().cloned() else {
        eprintln!("usage: lsrun [--stats] FILE.lsa [ARGS...]");
        return ExitCode::from(2);
    };
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let module = match lockstep_spec::asm::assemble(&source, &path) {
        Ok(a) => a.module,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let module = match lockstep_spec::verify::verify(module) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{path}: {e:?}");
            return ExitCode::from(2);
        }
    };
    if reference {
        let config = lockstep_reference::Config {
            args: argv[1..].iter().map(|a| a.as_bytes().to_vec()).collect(),
            ..lockstep_reference::Config::default()
        };
        return match lockstep_reference::run(&module, &config) {
            Ok(o) => {
                let _ = std::io::stdout().write_all(&o.stdout);
                if matches!(o.end, End::Finished { .. }) { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let config = Config { args: argv[1..].iter().map(|a| a.as_bytes().to_vec()).collect(), stats, record_schedule: false, ..Config::default() };
    match run_with_stats(&module, &config) {
        Ok(report) => {
            let _ = std::io::stdout().write_all(&report.outcome.stdout);
            if let Some(s) = report.stats {
                eprintln!("{s}");
            }
            match report.outcome.end {
                End::Finished { .. } => ExitCode::SUCCESS,
                End::Trapped(t) => {
                    eprintln!("trap {} in {} at {}: {}", t.kind, t.function_name, t.pc, t.detail);
                    ExitCode::from(1)
                }
                End::Deadlock { blocked } => {
                    eprintln!("deadlock: {blocked:?}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(3)
        }
    }
}
