//! Band keys for the simhash index: how a Hamming-distance query becomes a few indexed
//! equality lookups.
//!
//! A 64-bit simhash is split into four 16-bit bands, each stored in its own indexed
//! column. If two hashes differ in at most `d` bits, then by the pigeonhole principle one of
//! the four bands differs in at most `d / 4` bits. So a query enumerates, per band, every
//! 16-bit value within `d / 4` bits of the query's band (1 value for `d < 4`, 17 for
//! `d < 8`, 137 for `d < 12`, …), looks those up through the band's index, and checks the
//! full Hamming distance of each candidate. This finds every match (no false negatives),
//! unlike plain banding, which only guarantees recall for `d < 4`.
//!
//! Hand-written because it is a dozen lines of bit arithmetic tied to our SQL layout; the
//! crates that offer simhash indexes are in-memory and research-grade (research/deps.md).

/// Number of 16-bit bands a simhash is split into.
pub const BANDS: usize = 4;

/// Largest distance served through the band indexes; beyond it the neighbourhoods get
/// too large (per band, 2,517 values at `d / 4 = 3`) and a full scan is cheaper.
pub const MAX_INDEXED_DISTANCE: u32 = 11;

/// The four 16-bit bands of `simhash`, lowest bits first.
pub fn bands(simhash: u64) -> [u16; BANDS] {
    let mut out = [0u16; BANDS];
    for (i, band) in out.iter_mut().enumerate() {
        *band = (simhash >> (16 * i)) as u16;
    }
    out
}

/// Every 16-bit value within `max_bits` flipped bits of `band` (including `band`).
pub fn neighbourhood(band: u16, max_bits: u32) -> Vec<u16> {
    let mut out = vec![band];
    if max_bits >= 1 {
        for i in 0..16 {
            out.push(band ^ (1 << i));
        }
    }
    if max_bits >= 2 {
        for i in 0..16 {
            for j in (i + 1)..16 {
                out.push(band ^ (1 << i) ^ (1 << j));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_reassemble_the_hash() {
        let hash = 0x0123_4567_89ab_cdef_u64;
        let b = bands(hash);
        assert_eq!(b, [0xcdef, 0x89ab, 0x4567, 0x0123]);
        let back = b
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, v)| acc | (u64::from(*v) << (16 * i)));
        assert_eq!(back, hash);
    }

    #[test]
    fn neighbourhood_sizes_match_binomials() {
        assert_eq!(neighbourhood(7, 0).len(), 1);
        assert_eq!(neighbourhood(7, 1).len(), 17);
        assert_eq!(neighbourhood(7, 2).len(), 1 + 16 + 120);
        let mut all = neighbourhood(0xbeef, 2);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 137, "no value is listed twice");
        assert!(all.iter().all(|v| (v ^ 0xbeef).count_ones() <= 2));
    }

    #[test]
    fn pigeonhole_holds_for_every_distance_served() {
        // Flip d bits spread as evenly as possible over the bands: the closest band still
        // differs in at most d / 4 bits, so it lies in the neighbourhood.
        let base = 0xdead_beef_cafe_f00d_u64;
        for d in 0..=MAX_INDEXED_DISTANCE {
            let mut other = base;
            for k in 0..d {
                let band = k % 4;
                let bit = k / 4;
                other ^= 1u64 << (16 * band + bit);
            }
            let (qb, ob) = (bands(base), bands(other));
            let found = (0..BANDS).any(|i| neighbourhood(qb[i], d / 4).contains(&ob[i]));
            assert!(found, "distance {d} must be found through some band");
        }
    }
}
