//! Planted bugs (mutants): `LOCKSTEP_MUTANT=NAME` compiles this crate with
//! `cfg(lockstep_mutant = "NAME")`, the known bug of that name (the `cfg`s sit in `src/ops.rs`,
//! `src/inline_cache.rs`, `src/par.rs`, `src/stm/` and `src/jit/`). Only this crate and the crates above it
//! rebuild; dependencies keep their flags, unlike `RUSTFLAGS="--cfg ..."`, which rebuilds them all.
//!
//! The environment variable is honoured only with the feature `mutant`
//! (`--features lockstep-optimized/mutant`): a feature is part of cargo's artifact hash, so a
//! mutant build gets artifacts of its own for this crate and its dependents and never overwrites
//! the normal build's, while sharing every dependency with it. `tests/run-mutants` and
//! `model-checks/run-mutants` do this for each mutant.

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
    // Tier 2 (src/jit/tier2.rs).
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
    ("tier2_span_output_unchecked", "suites"),
    ("tier2_restart_keeps_current_values", "suites"),
    ("tier2_counted_step_unchecked", "suites"),
    ("tier2_undo_adds", "suites"),
    ("tier2_ushr_keeps_the_sign", "suites"),
    ("tier2_dead_ignores_liveness", "suites"),
    ("tier2_lift_ignores_stores", "suites"),
    ("tier2_lift_written_object", "suites"),
    ("tier2_left_op_skipped", "suites"),
    ("tier2_rem_unsigned", "suites"),
    ("tier2_ftoi_range_inclusive", "suites"),
    ("tier2_int_div_unchecked", "suites"),
    ("tier2_free_takes_fields_for_numbers", "suites"),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LOCKSTEP_MUTANT");
    let values: Vec<String> = MUTANTS.iter().map(|(name, _)| format!("\"{name}\"")).collect();
    println!("cargo::rustc-check-cfg=cfg(lockstep_mutant, values({}))", values.join(", "));

    let Some(requested) = std::env::var_os("LOCKSTEP_MUTANT") else { return };
    let requested = requested.to_string_lossy();
    if requested.is_empty() {
        return;
    }
    if std::env::var_os("CARGO_FEATURE_MUTANT").is_none() {
        println!(
            "cargo::error=LOCKSTEP_MUTANT={requested} needs `--features lockstep-optimized/mutant` \
             (so that mutant builds never overwrite the normal build); or unset LOCKSTEP_MUTANT"
        );
    } else if MUTANTS.iter().any(|(name, _)| *name == requested) {
        println!("cargo::rustc-cfg=lockstep_mutant=\"{requested}\"");
    } else {
        let known: Vec<&str> = MUTANTS.iter().map(|(name, _)| *name).collect();
        println!("cargo::error=unknown mutant LOCKSTEP_MUTANT={requested}; the known ones: {}", known.join(", "));
    }
}
