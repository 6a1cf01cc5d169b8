//! The FLM loader (rust/algo/src/flm.rs): any file gives an error or an algorithm whose
//! image fits the probe's buffer, whose entry points are inside the code and whose device
//! tiles into sectors; a failed load leaves nothing behind. The file is read through a
//! source that hands out small pieces, as a Python buffer or a file on the probe does.
#![no_main]

use algo::{Algorithm, Function, MAX_IMAGE, Source, flm};
use libfuzzer_sys::fuzz_target;

/// Reads at most 7 bytes past what was asked for from nowhere: only what is asked.
struct Pieces<'a>(&'a [u8]);

impl Source for Pieces<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn read_at(&mut self, offset: usize, out: &mut [u8]) -> bool {
        let mut slice = self.0;
        Source::read_at(&mut slice, offset, out)
    }
}

fuzz_target!(|input: &[u8]| {
    let mut algorithm = Algorithm::new();
    match flm::load(&mut algorithm, &mut Pieces(input)) {
        Ok(()) => {
            assert!(algorithm.image.len() <= MAX_IMAGE && !algorithm.image.is_empty());
            for function in Function::ALL {
                if let Some(entry) = algorithm.entries.get(function) {
                    assert!(((entry & !1) as usize) < algorithm.image.len());
                }
            }
            let device = &algorithm.device;
            assert!(device.page_size > 0 && device.size > 0);
            let covered: u64 = device.runs().map(|(_, length, _)| u64::from(length)).sum();
            assert_eq!(covered, u64::from(device.size));
            for (start, _, size) in device.runs() {
                assert_eq!(device.sector_at(start), Some((start, size)));
            }
        }
        Err(_) => assert!(!algorithm.is_loaded()),
    }
});
