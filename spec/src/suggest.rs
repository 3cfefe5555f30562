//! Did-you-mean: the known name nearest to a misspelt one, for the `help:` of an error
//! ([text.errors]).
//!
//! A name is suggested when it is within a few edits of what was written (insertions,
//! deletions, substitutions, and swaps of two neighbours, which is the commonest typo). The
//! bound is a third of the written name's length, at least 1 and at most [`MAX_EDITS`], so a
//! short name is not "corrected" into an unrelated one and the search stays cheap: each
//! candidate costs at most its length times a band of `2 * MAX_EDITS + 1` cells, so even the
//! largest module's 65,536 function names take a few milliseconds.

/// The most edits a suggestion may be away from the written name.
pub const MAX_EDITS: usize = 3;

/// The candidate nearest to `written` within the edit bound; among equally near ones, the
/// smallest (so the answer does not depend on the candidates' order, which may be a hash
/// map's). A candidate that differs only in letter case is nearest of all.
pub fn closest<'a>(written: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let written: Vec<char> = written.chars().collect();
    // A one-character name is one edit from every other one: only its case is corrected.
    let bound = if written.len() < 2 { 0 } else { (written.len() / 3).clamp(1, MAX_EDITS) };
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let chars: Vec<char> = candidate.chars().collect();
        if chars == written {
            continue;
        }
        let distance =
            if chars.len() == written.len() && chars.iter().zip(&written).all(|(a, b)| a.eq_ignore_ascii_case(b)) {
                0
            } else {
                match edits_within(&written, &chars, bound) {
                    Some(d) => d,
                    None => continue,
                }
            };
        if best.is_none_or(|(d, name)| (distance, candidate) < (d, name)) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// The optimal-string-alignment distance between `a` and `b` if it is at most `bound`.
/// Only the cells within `bound` of the diagonal are computed (any path leaving that band
/// costs more than `bound`); cells outside it count as `bound + 1`.
fn edits_within(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let over = bound + 1;
    let width = b.len() + 1;
    // Three rows: two back for a swap of neighbours.
    let mut rows = [vec![over; width], vec![over; width], vec![over; width]];
    for (j, cell) in rows[0].iter_mut().enumerate().take(bound + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur].fill(over);
        if i <= bound {
            rows[cur][0] = i;
        }
        let lo = i.saturating_sub(bound).max(1);
        let hi = (i + bound).min(b.len());
        let mut row_min = rows[cur][0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[prev][j - 1] + cost).min(rows[prev][j] + 1).min(rows[cur][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = d.min(over);
            row_min = row_min.min(rows[cur][j]);
        }
        if row_min > bound {
            return None;
        }
    }
    let d = rows[a.len() % 3][b.len()];
    (d <= bound).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested_and_far_ones_are_not() {
        let mnemonics = ["add", "addi", "sub", "jmp", "jmpz", "send", "spawn", "ret"];
        assert_eq!(closest("ad", mnemonics), Some("add"));
        assert_eq!(closest("jpmz", mnemonics), Some("jmpz"), "a swap of neighbours is one edit");
        assert_eq!(closest("spanw", mnemonics), Some("spawn"));
        assert_eq!(closest("ADD", mnemonics), Some("add"), "a case difference is nearest");
        assert_eq!(closest("xyz", mnemonics), None);
        assert_eq!(closest("multiply", mnemonics), None);
        assert_eq!(closest("ret", ["ret"]), None, "the name itself is no suggestion");
        assert_eq!(closest("lop", ["loop", "lo"]), Some("lo"), "the smallest of equally near ones");
        assert_eq!(closest("lop", ["lo", "loop"]), Some("lo"));
        assert_eq!(closest("anything", []), None);
        assert_eq!(closest("z", ["x", "y"]), None, "one character is no basis for a guess");
        assert_eq!(closest("X", ["x", "y"]), Some("x"));
    }

    #[test]
    fn distances_within_the_bound_are_exact() {
        let d = |a: &str, b: &str, bound| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            edits_within(&a, &b, bound)
        };
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("", "abc", 3), Some(3));
        assert_eq!(d("abc", "", 2), None);
        assert_eq!(d("ab", "ba", 1), Some(1));
        assert_eq!(d("counter_total", "countre_total", 1), Some(1));
        assert_eq!(d("héllo", "hello", 1), Some(1), "characters, not bytes");
    }
}
