//! A build that leaves subsystems out (a board that must fit its flash): each call into a
//! left-out subsystem fails with `Error::NotBuilt` naming its Cargo feature, never a crash
//! or a silent no-op. tools/test runs these with
//!
//!   cargo test -p debug --no-default-features --features stm32f1 --test left_out
//!
//! With the default features every test here is compiled out. (Left-out chip families:
//! crate chips' `left_out` tests; this crate's tests get every family through their
//! dev-dependency on chips.)
#![cfg(not(all(feature = "sequences", feature = "flash-algorithm")))]

mod common;

use common::virtual_wire;
use debug::{Error, Feature, Session};
use sim::chip::Variant;

#[cfg(not(feature = "sequences"))]
#[test]
fn sequences_left_out_say_so() {
    let (wire, clock) = virtual_wire::wire(Variant::Stm32f103cb, None);
    let mut session = Session::new();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    let error = session.run_named_sequence("ResetSystem").unwrap_err();
    assert_eq!(error, Error::NotBuilt(Feature::Sequences));
    let text = error.to_string();
    assert!(text.contains("debug sequences"), "{text}");
    assert!(text.contains("'sequences'"), "{text}");
    // The built-in steps still reset the target.
    session.reset(true).unwrap();
}

#[cfg(not(feature = "flash-algorithm"))]
#[test]
fn flash_algorithms_left_out_say_so() {
    let (wire, clock) = virtual_wire::wire(Variant::Stm32f103cb, None);
    let mut session = Session::new();
    assert_eq!(session.scan(wire, clock).unwrap().count(), 1);
    session.attach(1).unwrap();
    let mut loader_ran = false;
    let error = session
        .set_flash_algorithm(
            |_| {
                loader_ran = true;
                Ok(())
            },
            None,
        )
        .unwrap_err();
    assert_eq!(error, Error::NotBuilt(Feature::FlashAlgorithm));
    assert!(
        !loader_ran,
        "nothing is loaded in a build without the runner"
    );
    assert!(error.to_string().contains("'flash-algorithm'"));
    assert!(session.flash_algorithm().is_none());
}
