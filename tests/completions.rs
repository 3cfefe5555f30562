//! `lockstep completions SHELL`: the scripts come from the CLI's own definition. The bash
//! script is run in bash on partial command lines; the others are checked for what they must
//! name (zsh and fish may not be installed where the tests run).

use std::process::Command;

fn completions(shell: &str) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_lockstep")).args(["completions", shell]).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
}

/// What bash's completion function offers for `words`, the last one being completed.
fn bash_offers(script: &str, words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "{script}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_lockstep lockstep '{}' '{}'\necho \"${{COMPREPLY[*]}}\"\n",
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let o = Command::new("bash").arg("-c").arg(program).output().expect("bash runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn bash_completes_subcommands_options_and_their_values() {
    let (status, script) = completions("bash");
    assert_eq!(status, Some(0));
    assert_eq!(bash_offers(&script, &["lockstep", "ru"]), "run");
    assert_eq!(bash_offers(&script, &["lockstep", "run", "--st"]), "--stats --stm --stm-report --stm-stress");
    assert_eq!(bash_offers(&script, &["lockstep", "run", "--back"]), "--backtrace");
    assert_eq!(bash_offers(&script, &["lockstep", "run", "--engine", ""]), "reference optimized");
    assert!(bash_offers(&script, &["lockstep", "completions", ""]).ends_with("bash elvish fish powershell zsh"));
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand_and_an_unknown_shell_is_refused() {
    for shell in ["zsh", "fish"] {
        let (status, script) = completions(shell);
        assert_eq!(status, Some(0), "{shell}");
        for word in ["asm", "disasm", "check", "run", "diff", "smith", "completions", "backtrace", "single-threaded"] {
            assert!(script.contains(word), "{shell}: no `{word}`");
        }
    }
    assert!(completions("fish").1.contains("complete -c lockstep"));
    assert!(completions("zsh").1.starts_with("#compdef lockstep"));
    assert_eq!(completions("tcsh").0, Some(2));
}
