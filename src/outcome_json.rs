//! The JSON document `lockstep run --outcome json` writes: the outcome's JSON form
//! ([exec.outcome-json] in `spec/semantics.md`, made by `Outcome::to_json`, which carries the
//! `version`), followed by the engine's figures when `--stats` or `--stm-report` asked for them.
//! One line; nothing else shares standard output with it.

use lockstep_spec::outcome::Outcome;

/// The document: `{"version":3,"stdout":...,"end":...,"schedule":[...]` then `,"stats":{...}`
/// and `,"stm_report":{...}` when present, then `}` and a newline.
pub fn document(outcome: &Outcome, stats: Option<&str>, stm_report: Option<&str>) -> String {
    let mut json = outcome.to_json();
    // `to_json` always ends with the closing brace of its object.
    let close = json.pop();
    debug_assert_eq!(close, Some('}'));
    for (key, value) in [("stats", stats), ("stm_report", stm_report)] {
        if let Some(value) = value {
            json.push_str(&format!(",\"{key}\":{value}"));
        }
    }
    json.push_str("}\n");
    json
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_spec::outcome::End;
    use lockstep_spec::schedule::Schedule;

    #[test]
    fn figures_follow_the_schedule() {
        let o = Outcome {
            stdout: b"x".to_vec(),
            end: End::Finished { value: lockstep_spec::outcome::Value::Int(1) },
            schedule: Schedule::default(),
        };
        let base = r#"{"version":3,"stdout":"x","end":{"kind":"finished","value":"1"},"schedule":[]"#;
        assert_eq!(document(&o, None, None), format!("{base}}}\n"));
        assert_eq!(document(&o, Some("{\"a\":1}"), None), format!("{base},\"stats\":{{\"a\":1}}}}\n"));
        assert_eq!(
            document(&o, Some("{}"), Some("{\"b\":[]}")),
            format!("{base},\"stats\":{{}},\"stm_report\":{{\"b\":[]}}}}\n")
        );
    }
}
