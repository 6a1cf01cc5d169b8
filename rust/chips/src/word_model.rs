//! The chip tests' memory models answer one word at a time: `memory_by_words!(Model)` makes
//! such a model an `adi::Memory` (blocks as word loops, bytes read from their word, byte
//! writes refused). Half-word writes are refused too, unless the model names its method
//! for them: `memory_by_words!(Model, halves: program)` (the F1's flash programming).

macro_rules! memory_by_words {
    ($model:ty) => {
        crate::word_model::memory_by_words!($model, halves: refuse_halves);
        impl $model {
            fn refuse_halves(&mut self, address: u32, _: u16) -> Result<(), adi::Error> {
                Err(adi::Error::Bus { address })
            }
        }
    };
    ($model:ty, halves: $write_half:ident) => {
        impl adi::Memory for $model {
            fn read_words(&mut self, address: u32, words: &mut [u32]) -> Result<(), adi::Error> {
                for (index, word) in words.iter_mut().enumerate() {
                    *word = self.read(address + 4 * index as u32)?;
                }
                Ok(())
            }

            fn write_words(&mut self, address: u32, words: &[u32]) -> Result<(), adi::Error> {
                for (index, &word) in words.iter().enumerate() {
                    self.write(address + 4 * index as u32, word)?;
                }
                Ok(())
            }

            fn write_halves(&mut self, address: u32, halves: &[u16]) -> Result<(), adi::Error> {
                for (index, &half) in halves.iter().enumerate() {
                    self.$write_half(address + 2 * index as u32, half)?;
                }
                Ok(())
            }

            fn read_bytes(&mut self, address: u32, bytes: &mut [u8]) -> Result<(), adi::Error> {
                for (index, byte) in bytes.iter_mut().enumerate() {
                    let at = address + index as u32;
                    *byte = self.read(at & !3)?.to_le_bytes()[(at & 3) as usize];
                }
                Ok(())
            }

            fn write_bytes(&mut self, address: u32, _: &[u8]) -> Result<(), adi::Error> {
                Err(adi::Error::Bus { address })
            }

            fn now_micros(&mut self) -> u64 {
                self.now
            }
        }
    };
}

pub(crate) use memory_by_words;
