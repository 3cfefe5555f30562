//! Planted bugs (mutants). Each sits behind `mutant!(NAME)` (src/mutant.rs) in `src/ops.rs`, `src/value.rs`,
//! `src/inline_cache.rs`, `src/par.rs`, `src/stm/` and `src/jit/`; this script writes the `Id`
//! enum the macro names, so a misspelt mutant does not compile. Without the feature `mutant`
//! every `mutant!` is the constant `false`. With it (`--features lockstep-optimized/mutant`; a
//! feature is part of cargo's artifact hash, so mutant builds get artifacts of their own and never
//! overwrite the normal build's, while sharing every dependency with it) a mutant is chosen
//! either when compiling, `LOCKSTEP_MUTANT=NAME` (a constant then: `model-checks/run-mutants`
//! rebuilds per mutant, so that loom explores exactly the planted code), or when running,
//! `LOCKSTEP_RUN_MUTANT=NAME` (`tests/run-mutants` builds once and runs the suites per mutant).

/// Every planted bug, and what must catch it: `suites` means `tests/run-mutants` (the
/// conformance, differential and stm suites of `lockstep-tests`; one of them must fail),
/// `model:NAME` means `model-checks/run-mutants` (the loom model `NAME` must fail). This table is
/// the one list of mutants: it declares the cfg values to rustc, and both scripts read it (one
/// entry a line, in this exact shape).
const MUTANTS: &[(&str, &str)] = &[
    ("lt_off_by_one", "suites"),
    ("div_min_overflow", "suites"),
    ("ic_skips_class_check", "suites"),
    ("missing_write_barrier", "suites"),
    ("skip_read_validation", "suites model:reader_opacity"),
    ("writeback_before_validate", "suites model:two_writers_overlapping"),
    ("missing_acquire", "model:reader_opacity"),
    ("release_before_writeback", "model:reader_opacity"),
    ("write_in_place", "model:abort_leaves_no_trace"),
    ("second_inevitable", "model:inevitable_and_normal"),
    ("inevitable_skips_writing", "model:inevitable_and_normal"),
    ("stale_private_tag", "model:publication_of_a_private_object"),
    ("safepoint_ignores_parked", "model:safepoint_handshake"),
    ("unpark_ignores_stop", "model:safepoint_handshake"),
    ("register_by_running_skips_count", "model:spawn_during_stop"),
    ("handoff_ready_before_result", "model:compiled_code_handoff"),
    // The baseline JIT (src/jit/x64.rs, src/interp/mod.rs).
    ("jit_add_skips_overflow_check", "suites"),
    ("jit_mul_skips_overflow_check", "suites"),
    ("jit_call_skips_fuel", "suites"),
    ("jit_boundary_in_atomic", "suites"),
    ("jit_store_without_barrier", "suites"),
    ("jit_field_skips_class_check", "suites"),
    ("jit_float_skips_range_check", "suites"),
    // The float encoding (src/value.rs).
    ("float_admits_exponent_896", "suites"),
    ("jit_exit_skips_the_op", "suites"),
    ("jit_stale_window_after_call", "suites"),
    ("jit_ic_hit_skips_class_check", "suites"),
    ("jit_send_skips_class_test", "suites"),
    ("jit_new_skips_gc_threshold", "suites"),
    ("jit_send_known_receiver_skips_test", "suites"),
    ("jit_call_enters_past_self_check", "suites"),
    ("jit_mixed_int_unscaled", "suites"),
    // The JIT's facts about kinds (src/jit/kinds.rs) and float homes.
    ("jit_entry_skips_kind_check", "suites"),
    ("jit_mov_skips_float_home", "suites"),
    ("jit_kinds_join_keeps_first", "suites"),
    ("jit_object_fact_any_class", "suites"),
    ("jit_guess_takes_both_paths", "suites"),
    // Guards whose failure would corrupt memory or crash the host rather than a value.
    ("jit_element_skips_bounds_check", "suites"),
    ("jit_div_skips_zero_check", "suites"),
    ("jit_ushr_keeps_the_sign", "suites"),
    ("jit_call_skips_room_check", "suites"),
    ("jit_enters_unreached_op", "suites"),
    // The barrier flavour's helpers (src/jit/barriers.rs).
    ("jit_load_without_barrier", "suites"),
    // Tier 2 (src/jit/tier2/).
    ("tier2_float_skips_range_check", "suites"),
    ("tier2_exit_skips_write_back", "suites"),
    ("tier2_stale_window", "suites"),
    ("tier2_webs_join_only_at_uses", "suites"),
    ("tier2_guard_exits_past_the_op", "suites"),
    ("tier2_int_skips_overflow_check", "suites"),
    ("tier2_untaken_back_jump_charged", "suites"),
    ("tier2_written_mask_not_kept", "suites"),
    ("tier2_field_skips_class_check", "suites"),
    ("tier2_store_without_private_check", "suites"),
    ("tier2_load_without_barrier", "suites"),
    ("tier2_element_without_barrier", "suites"),
    ("tier2_exit_boxes_nothing", "suites"),
    ("tier2_box_oom_ignored", "suites"),
    ("tier2_counted_step_unchecked", "suites"),
    ("tier2_undo_adds", "suites"),
    ("tier2_ushr_keeps_the_sign", "suites"),
    ("tier2_dead_ignores_liveness", "suites"),
    ("tier2_lift_ignores_stores", "suites"),
    ("tier2_lift_written_object", "suites"),
    ("tier2_left_op_skipped", "suites"),
    ("tier2_called_frame_resumes_at_the_call", "suites"),
    ("tier2_called_exit_drops_a_register", "suites"),
    ("tier2_callee_dst_unwritten", "suites"),
    ("tier2_call_skips_budget_check", "suites"),
    ("tier2_new_skips_gc_threshold", "suites"),
    ("tier2_send_takes_the_first_method", "suites"),
    ("tier2_send_counts_no_hit", "suites"),
    ("tier2_logic_xor_untagged", "suites"),
    ("tier2_loop_calls_itself_as_its_function", "suites"),
    ("tier2_rem_unsigned", "suites"),
    ("tier2_ftoi_range_inclusive", "suites"),
    ("tier2_int_div_unchecked", "suites"),
    ("tier2_int_div_guess_unchecked", "suites"),
    ("tier2_facts_from_every_block", "suites"),
    ("tier2_constant_register_unchecked", "suites"),
    ("tier2_send_fact_takes_the_first_method", "suites"),
    ("tier2_logic_truth_ored", "suites"),
    ("tier2_free_takes_fields_for_numbers", "suites"),
    ("tier2_inline_read_skips_filter", "suites"),
    ("tier2_lifted_tag_untested", "suites"),
    ("tier2_carried_field_aliased", "suites"),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LOCKSTEP_MUTANT");
    let mut compiled = "None".to_string();
    if let Some(requested) = std::env::var_os("LOCKSTEP_MUTANT").filter(|r| !r.is_empty()) {
        let requested = requested.to_string_lossy();
        if std::env::var_os("CARGO_FEATURE_MUTANT").is_none() {
            println!(
                "cargo::error=LOCKSTEP_MUTANT={requested} needs `--features lockstep-optimized/mutant` \
                 (so that mutant builds never overwrite the normal build); or unset LOCKSTEP_MUTANT"
            );
        } else if MUTANTS.iter().any(|(name, _)| *name == requested) {
            compiled = format!("Some(Id::{requested})");
        } else {
            let known: Vec<&str> = MUTANTS.iter().map(|(name, _)| *name).collect();
            println!("cargo::error=unknown mutant LOCKSTEP_MUTANT={requested}; the known ones: {}", known.join(", "));
        }
    }
    // src/mutant.rs includes this: one `Id` variant per mutant (so `mutant!(NAME)` with an
    // unknown NAME does not compile), their names, and the one compiled in, if any.
    let mut out = String::from("/// One planted bug of build.rs's table.\n");
    out += "#[allow(non_camel_case_types, dead_code)]\n#[derive(Clone, Copy, PartialEq, Eq, Debug)]\npub enum Id {\n";
    for (name, _) in MUTANTS {
        out += &format!("    {name},\n");
    }
    out += "}\n\n/// Each mutant's name, as `LOCKSTEP_MUTANT` and `LOCKSTEP_RUN_MUTANT` spell it.\n#[allow(dead_code)]\npub const NAMES: &[(&str, Id)] = &[\n";
    for (name, _) in MUTANTS {
        out += &format!("    (\"{name}\", Id::{name}),\n");
    }
    out += &format!("];\n\n/// The mutant compiled in with `LOCKSTEP_MUTANT`, if any.\npub const COMPILED: Option<Id> = {compiled};\n");
    let path = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("mutants.rs");
    std::fs::write(&path, out).expect("OUT_DIR is writable");
}
